"""Accounts (issue 28, point 4): each tenant says whether sellers may sign themselves up, and
each user whether (and when) their email was verified.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("seller_signup", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.add_column("users", sa.Column("email_verified_at", Timestamp, nullable=True))


def downgrade() -> None:
    op.drop_column("users", "email_verified_at")
    op.drop_column("tenants", "seller_signup")
