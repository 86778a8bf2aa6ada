"""Carts, orders, seller orders and reviews.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("cart_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_amount", sa.BigInteger, nullable=False),
        sa.Column("shipping_address", sa.JSON, nullable=False),
        sa.Column("payment_provider", sa.String(20), nullable=True),
        sa.Column("payment_intent_id", sa.String(100), nullable=True),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "seller_orders",
        sa.Column("seller_order_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("escrow_status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal_amount", sa.BigInteger, nullable=False),
        sa.Column("commission_amount", sa.BigInteger, nullable=False),
        sa.Column("seller_net_amount", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("carrier", sa.String(100), nullable=True),
        sa.Column("tracking_number", sa.String(100), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("review_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("product_id", Id, nullable=False),
        sa.Column("buyer_id", Id, nullable=False),
        sa.Column("order_id", Id, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_orders_buyer", "orders", ["tenant_id", "buyer_id", "created_position"])
    op.create_index("ix_orders_status_expiry", "orders", ["status", "expires_at"])
    op.create_index("ix_seller_orders_order", "seller_orders", ["order_id"])
    op.create_index(
        "ix_seller_orders_seller", "seller_orders", ["tenant_id", "seller_id", "created_position"]
    )
    op.create_index("ix_reviews_product", "reviews", ["product_id", "created_position"])


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("seller_orders")
    op.drop_table("orders")
    op.drop_table("carts")
