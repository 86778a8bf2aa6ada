"""Shipping (issue 28, point 3): sellers' shipping rates, the shipping each seller order and
order was charged with the rate chosen, and whether a tenant takes commission on shipping.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "shipping_rates",
        sa.Column("rate_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("countries", sa.JSON, nullable=False),
        sa.Column("price_amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("free_over_amount", sa.BigInteger, nullable=True),
        sa.Column("min_days", sa.Integer, nullable=False),
        sa.Column("max_days", sa.Integer, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_shipping_rates_seller", "shipping_rates", ["seller_id", "created_position"])
    op.add_column(
        "seller_orders",
        sa.Column("shipping_amount", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.add_column("seller_orders", sa.Column("shipping_rate", sa.JSON, nullable=True))
    op.add_column(
        "orders", sa.Column("shipping_amount", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column(
        "tenants",
        sa.Column("commission_on_shipping", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("commission_on_shipping")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("shipping_amount")
    with op.batch_alter_table("seller_orders") as batch:
        batch.drop_column("shipping_rate")
        batch.drop_column("shipping_amount")
    op.drop_index("ix_shipping_rates_seller", "shipping_rates")
    op.drop_table("shipping_rates")
