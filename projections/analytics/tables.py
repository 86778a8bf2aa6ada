"""The facts the dashboards read, which the analytics projector writes
(projections/analytics/projector.py), and what it keeps of each seller order to count them."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from projections.schema import MONEY, Id, metadata

# One row per money fact of a seller order (paid, refunded, cancelled after payment), written by
# the analytics projector.
sales_facts = sa.Table(
    "sales_facts",
    metadata,
    sa.Column("created_position", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("seller_order_id", Id, nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_sales_facts_day", "tenant_id", "day"),
    sa.Index("ix_sales_facts_order", "seller_order_id"),
)

# What the analytics projector keeps of each seller order that the orders model overwrites later:
# who paid for it (a guest's order joins the account that verifies its email) and the share of the
# charge its latest dispute holds (projections/analytics/projector.py).
analytics_seller_orders = sa.Table(
    "analytics_seller_orders",
    metadata,
    sa.Column("seller_order_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("order_id", Id, nullable=False),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("buyer_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column(
        "dispute_share_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY
    ),
    sa.Column(
        "dispute_share_commission_amount",
        sa.BigInteger,
        nullable=False,
        server_default="0",
        info=MONEY,
    ),
    sa.Index("ix_analytics_seller_orders_order", "order_id"),
)

# The analytics dashboards' facts, summed per day (and per seller and product also per month) as
# the events arrive; the analytics projector writes these, the carts projector `cart_sellers`. A
# dashboard reads a row per month for the whole months of its range and a row per day for the
# days at its ends, never the orders themselves.
seller_daily = sa.Table(
    "seller_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("orders", sa.BigInteger, nullable=False),  # seller orders paid
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("placed", sa.BigInteger, nullable=False),  # seller orders placed (paid or not)
    # Covers the best sellers' query, so it reads no table rows.
    sa.Index(
        "ix_seller_daily_day",
        "tenant_id",
        "day",
        "currency",
        "seller_id",
        "gmv",
        "commission",
        "orders",
    ),
)

# Each seller's figures from its first through the end of each month (the seller_daily columns
# summed), a row per seller for every month the tenant has figures in, so the seller's totals
# over a range are a difference of two months' rows and the days at the range's ends, however
# long the range. A month with no figures of the tenant has no rows: its totals are the last
# month's before it.
seller_running = sa.Table(
    "seller_running",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),  # its first day
    sa.Column("seller_id", Id, primary_key=True),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("orders", sa.BigInteger, nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("placed", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,  # a month's rows are read in key order with their values
)

product_daily = sa.Table(
    "product_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    # Covers the best products' query, so it reads no table rows.
    sa.Index(
        "ix_product_daily_day",
        "tenant_id",
        "day",
        "currency",
        "product_id",
        "seller_id",
        "gmv",
        "units",
    ),
    sa.Index("ix_product_daily_seller", "tenant_id", "seller_id", "day"),
)

# What each variant sold per day: the best products' breakdown by variant (the ten's rows only).
variant_daily = sa.Table(
    "variant_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("variant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("product_id", Id, nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_variant_daily_product", "tenant_id", "product_id", "day"),
)

# Each product's units and GMV from its first sale through the end of each month, as
# seller_running keeps them for sellers.
product_running = sa.Table(
    "product_running",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("seller_id", Id, nullable=False),
    sa.Column("units", sa.BigInteger, nullable=False),
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Index("ix_product_running_seller", "tenant_id", "currency", "seller_id", "month"),
    sqlite_with_rowid=False,
)

# A buyer's days with a paid order, each with the one before it: the buyers active in a range
# are its rows whose previous day falls before the range (or is none), counted without DISTINCT
# (mostly from buyer_day_counts; here only for previous days in the range's first month).
buyer_days = sa.Table(
    "buyer_days",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("buyer_id", Id, primary_key=True),
    sa.Column("previous_day", sa.Date, nullable=True),
    sa.Index("ix_buyer_days_buyer", "tenant_id", "buyer_id", "day"),
    sa.Index("ix_buyer_days_previous", "tenant_id", "previous_day", "day"),
)

# How many buyer_days rows each day has per month of their previous day (FIRST_PURCHASE for
# none): a range's active buyers are summed from at most a row per day and month before it.
buyer_day_counts = sa.Table(
    "buyer_day_counts",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("previous_month", sa.Date, primary_key=True),
    sa.Column("buyers", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

FIRST_PURCHASE = date(1970, 1, 1)  # buyer_day_counts' previous month of a buyer's first day

marketplace_daily = sa.Table(
    "marketplace_daily",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("orders", sa.BigInteger, nullable=False),  # buyers' orders paid
    sa.Column("gmv", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("commission", sa.BigInteger, nullable=False, info=MONEY),
    sa.Column("refunds", sa.BigInteger, nullable=False, info=MONEY),
)
