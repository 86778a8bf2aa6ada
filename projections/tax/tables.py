"""The tax report's tables, which the tax projector (projections/tax/projector.py) writes."""

from __future__ import annotations

import sqlalchemy as sa

from projections.schema import MONEY, Id, metadata

# Tax collected and given back, summed per UTC day, currency, place (the shipping address's
# country and ISO 3166-2 subdivision, "" for none) and rate (its basis points and name).
tax_facts = sa.Table(
    "tax_facts",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("country", sa.String(2), primary_key=True),
    sa.Column("region", sa.String(10), primary_key=True),
    sa.Column("rate_bps", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("collected", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("refunded", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
)

# Where each taxed seller order was taxed, for what later gives its tax back.
tax_seller_orders = sa.Table(
    "tax_seller_orders",
    metadata,
    sa.Column("seller_order_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("region", sa.String(10), nullable=False),
)
