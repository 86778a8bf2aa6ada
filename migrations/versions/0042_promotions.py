"""Promotions (issue 30): the promotions read model; a cart's codes; what promotions took off
each order and seller order, and what the platform funds of a seller order's goods and shipping
with what refunds, cancellations and lost disputes gave back of it.

Every new column starts at 0 or null: nothing was discounted before.

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None

SELLER_ORDER_COLUMNS = (
    "discount_amount",
    "platform_funding_amount",
    "refunded_platform_amount",
    "dispute_share_platform_amount",
    "dispute_lost_platform_amount",
)
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("promotion_id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(40), nullable=True),
        sa.Column("seller_id", sa.String(36), nullable=True),
        sa.Column("funded_by", sa.String(8), nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_promotions_tenant", "promotions", ["tenant_id", "created_position"])
    with op.batch_alter_table("carts") as table:
        table.add_column(sa.Column("codes", sa.JSON, nullable=True))
    with op.batch_alter_table("orders") as table:
        table.add_column(_money("discount_amount"))
    with op.batch_alter_table("seller_orders") as table:
        for name in SELLER_ORDER_COLUMNS:
            table.add_column(_money(name))


def downgrade() -> None:
    with op.batch_alter_table("seller_orders") as table:
        for name in SELLER_ORDER_COLUMNS:
            table.drop_column(name)
    with op.batch_alter_table("orders") as table:
        table.drop_column("discount_amount")
    with op.batch_alter_table("carts") as table:
        table.drop_column("codes")
    op.drop_index("ix_promotions_tenant", "promotions")
    op.drop_table("promotions")
