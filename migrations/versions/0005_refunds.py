"""Refunds, and how much of each seller order has been refunded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.add_column(
        "seller_orders",
        sa.Column("refunded_amount", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_order_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("commission_reversed", sa.BigInteger, nullable=True),
        sa.Column("from_escrow", sa.Boolean, nullable=True),
        sa.Column("provider_refund_id", sa.String(100), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_refunds_seller_order", "refunds", ["seller_order_id"])


def downgrade() -> None:
    op.drop_index("ix_refunds_seller_order", table_name="refunds")
    op.drop_table("refunds")
    with op.batch_alter_table("seller_orders") as batch:
        batch.drop_column("refunded_amount")
