"""Tax the marketplace collects and remits (issue 30): a tenant's tax table; the tax of each
order and seller order, what refunds, cancellations and lost disputes gave back of it, and a
dispute's share of it; and the tax report's facts (projections/tax/tables.py).

Every new column starts at 0 or null: nothing was taxed before.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

SELLER_ORDER_COLUMNS = (
    "tax_amount",
    "refunded_tax_amount",
    "dispute_share_tax_amount",
    "dispute_lost_tax_amount",
)


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("tenants") as table:
        table.add_column(sa.Column("tax", sa.JSON, nullable=True))
    with op.batch_alter_table("orders") as table:
        table.add_column(_money("tax_amount"))
    with op.batch_alter_table("seller_orders") as table:
        for name in SELLER_ORDER_COLUMNS:
            table.add_column(_money(name))
    op.create_table(
        "tax_facts",
        sa.Column("tenant_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("region", sa.String(10), primary_key=True),
        sa.Column("rate_bps", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(100), primary_key=True),
        _money("collected"),
        _money("refunded"),
    )
    op.create_table(
        "tax_seller_orders",
        sa.Column("seller_order_id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(10), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tax_seller_orders")
    op.drop_table("tax_facts")
    with op.batch_alter_table("seller_orders") as table:
        for name in SELLER_ORDER_COLUMNS:
            table.drop_column(name)
    with op.batch_alter_table("orders") as table:
        table.drop_column("tax_amount")
    with op.batch_alter_table("tenants") as table:
        table.drop_column("tax")
