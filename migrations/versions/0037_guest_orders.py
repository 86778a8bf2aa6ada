"""Guest orders (issue 28, point 1): the email a guest's order was placed with, by which it
joins the account that verifies that email.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("guest_email", sa.String(254), nullable=True))
    op.create_index("ix_orders_guest_email", "orders", ["tenant_id", "guest_email"])


def downgrade() -> None:
    op.drop_index("ix_orders_guest_email", "orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("guest_email")
