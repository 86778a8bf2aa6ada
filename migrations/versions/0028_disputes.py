"""Disputes that move money (issue 19, point 1): a seller order's dispute status, its share of
the latest dispute, what lost disputes took and the fees it bore; an order's dispute status;
and who bears a lost dispute's fee, per tenant.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

SELLER_ORDER_AMOUNTS = (
    "dispute_amount",
    "dispute_commission_amount",
    "disputed_amount",
    "dispute_fee_amount",
)


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("dispute_fee_payer", sa.String(8), nullable=False, server_default="seller"),
    )
    op.add_column(
        "orders",
        sa.Column("dispute_status", sa.String(8), nullable=False, server_default="none"),
    )
    op.add_column(
        "seller_orders",
        sa.Column("dispute_status", sa.String(8), nullable=False, server_default="none"),
    )
    for name in SELLER_ORDER_AMOUNTS:
        op.add_column(
            "seller_orders",
            sa.Column(name, sa.BigInteger, nullable=False, server_default="0"),
        )


def downgrade() -> None:
    for name in reversed(SELLER_ORDER_AMOUNTS):
        op.drop_column("seller_orders", name)
    op.drop_column("seller_orders", "dispute_status")
    op.drop_column("orders", "dispute_status")
    op.drop_column("tenants", "dispute_fee_payer")
