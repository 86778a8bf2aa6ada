"""Payout details: tenants' minimum payout, sellers' payout accounts, what each seller order
has left to pay out, and the earnings statement's figures.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("min_payout_amount", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("sellers", sa.Column("payout_account", sa.String(255), nullable=True))
    for name in ("commission_reversed_amount", "paid_out_amount", "payout_remaining"):
        op.add_column(
            "seller_orders", sa.Column(name, sa.BigInteger, nullable=False, server_default="0")
        )
    op.add_column("seller_orders", sa.Column("released_at", Timestamp, nullable=True))
    op.create_index(
        "ix_seller_orders_payout",
        "seller_orders",
        ["tenant_id", "seller_id", "payout_remaining", "created_position"],
    )
    op.add_column("payouts", sa.Column("failure_reason", sa.String(500), nullable=True))
    op.add_column(
        "orders", sa.Column("returned_amount", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column(
        "orders", sa.Column("needs_review", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("orders", sa.Column("review_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    for name in ("review_reason", "needs_review", "returned_amount"):
        op.drop_column("orders", name)
    op.drop_column("payouts", "failure_reason")
    op.drop_index("ix_seller_orders_payout", table_name="seller_orders")
    for name in (
        "released_at",
        "payout_remaining",
        "paid_out_amount",
        "commission_reversed_amount",
    ):
        op.drop_column("seller_orders", name)
    op.drop_column("sellers", "payout_account")
    op.drop_column("tenants", "min_payout_amount")
