"""Scheduled payouts (issue 19, point 4): a tenant's payout schedule and the last period paid
on it.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("payout_interval", sa.String(8), nullable=True))
    op.add_column("tenants", sa.Column("payout_day", sa.Integer, nullable=True))
    op.add_column("tenants", sa.Column("payouts_ran_period", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "payouts_ran_period")
    op.drop_column("tenants", "payout_day")
    op.drop_column("tenants", "payout_interval")
