"""Sellers, products and per-warehouse stock levels.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "sellers",
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("commission_bps", sa.Integer, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_sellers_tenant_position", "sellers", ["tenant_id", "created_position"])
    op.create_table(
        "products",
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("price_amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("seller_status", sa.String(16), nullable=False),
        sa.Column("commission_bps", sa.Integer, nullable=True),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("sold", sa.BigInteger, nullable=False),
        sa.Column("rating_count", sa.Integer, nullable=False),
        sa.Column("rating_sum", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("created_position", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_products_tenant_position", "products", ["tenant_id", "created_position"])
    op.create_index("ix_products_seller", "products", ["seller_id", "created_position"])
    op.create_table(
        "stock_levels",
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("warehouse", sa.String(64), primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stock_levels")
    op.drop_index("ix_products_seller", table_name="products")
    op.drop_index("ix_products_tenant_position", table_name="products")
    op.drop_table("products")
    op.drop_index("ix_sellers_tenant_position", table_name="sellers")
    op.drop_table("sellers")
