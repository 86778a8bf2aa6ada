"""Analytics (issue 18, point 9): daily facts per seller, product, buyer and marketplace,
monthly ones per seller and product, and which sellers each cart held, for the seller and
marketplace dashboards.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

Id = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "seller_daily",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sa.Column("commission", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("placed", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_seller_daily_day",
        "seller_daily",
        ["tenant_id", "day", "currency", "seller_id", "gmv", "commission", "orders"],
    )
    op.create_table(
        "seller_monthly",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sa.Column("commission", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("placed", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_seller_monthly_month",
        "seller_monthly",
        ["tenant_id", "month", "currency", "seller_id", "gmv", "commission", "orders"],
    )
    op.create_table(
        "product_daily",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_product_daily_day",
        "product_daily",
        ["tenant_id", "day", "currency", "product_id", "seller_id", "gmv", "units"],
    )
    op.create_index("ix_product_daily_seller", "product_daily", ["tenant_id", "seller_id", "day"])
    op.create_table(
        "product_monthly",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("product_id", Id, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("seller_id", Id, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("units", sa.Integer, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_product_monthly_month",
        "product_monthly",
        ["tenant_id", "month", "currency", "product_id", "seller_id", "gmv", "units"],
    )
    op.create_index(
        "ix_product_monthly_seller", "product_monthly", ["tenant_id", "seller_id", "month"]
    )
    op.create_table(
        "buyer_days",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("buyer_id", Id, primary_key=True),
        sa.Column("previous_day", sa.Date, nullable=True),
    )
    op.create_index("ix_buyer_days_buyer", "buyer_days", ["tenant_id", "buyer_id", "day"])
    op.create_index("ix_buyer_days_first", "buyer_days", ["tenant_id", "day", "previous_day"])
    op.create_table(
        "marketplace_daily",
        sa.Column("tenant_id", Id, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("gmv", sa.BigInteger, nullable=False),
        sa.Column("commission", sa.BigInteger, nullable=False),
        sa.Column("refunds", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "cart_sellers",
        sa.Column("cart_id", Id, primary_key=True),
        sa.Column("seller_id", Id, primary_key=True),
        sa.Column("tenant_id", Id, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
    )
    op.create_index("ix_cart_sellers_day", "cart_sellers", ["tenant_id", "seller_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_cart_sellers_day", table_name="cart_sellers")
    op.drop_table("cart_sellers")
    op.drop_table("marketplace_daily")
    op.drop_index("ix_buyer_days_first", table_name="buyer_days")
    op.drop_index("ix_buyer_days_buyer", table_name="buyer_days")
    op.drop_table("buyer_days")
    op.drop_index("ix_product_monthly_seller", table_name="product_monthly")
    op.drop_index("ix_product_monthly_month", table_name="product_monthly")
    op.drop_table("product_monthly")
    op.drop_index("ix_product_daily_seller", table_name="product_daily")
    op.drop_index("ix_product_daily_day", table_name="product_daily")
    op.drop_table("product_daily")
    op.drop_index("ix_seller_monthly_month", table_name="seller_monthly")
    op.drop_table("seller_monthly")
    op.drop_index("ix_seller_daily_day", table_name="seller_daily")
    op.drop_table("seller_daily")
