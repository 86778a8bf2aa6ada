"""Every read-model table by name: the one lookup projectors write and read through
(`self.tables.orders`), and the one MetaData (`metadata`) that Alembic's migrations/env.py and the
schema test compare the migrations with, complete once this module is imported.

Each table is defined beside what writes it, in its package's `tables.py` (identity, profiles,
storefront, wishlists, categories, catalog, orders, ledger, analytics, tax, promotions,
reconciliation, organisations, webhooks, and the notifications consumer's); the read store's
own (tracking, quarantine, the API's records) are in projections/schema.py. A rebuild swaps
some of them for shadow copies (`shadowing`).

This module imports table modules only, never a projector: projections/projector.py imports it to
give every projector the live tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

import sqlalchemy as sa

from projections.analytics import tables as analytics
from projections.catalog import tables as catalog
from projections.categories import tables as categories
from projections.identity import tables as identity
from projections.ledger import tables as ledger

# The notifications consumer's tables, which no projector writes: imported so that `metadata`
# holds them too.
from projections.notifications import tables as notifications  # noqa: F401
from projections.orders import tables as orders
from projections.organisations import tables as organisations
from projections.profiles import tables as profiles
from projections.promotions import tables as promotions
from projections.reconciliation import tables as reconciliation
from projections.schema import SHADOW_SUFFIX, metadata
from projections.storefront import tables as storefront
from projections.tax import tables as tax
from projections.webhooks import tables as webhooks
from projections.wishlists import tables as wishlists

__all__ = ["LIVE", "SHADOW_SUFFIX", "Tables", "metadata"]


@dataclass(frozen=True)
class Tables:
    """The read-model tables a projector writes and reads: the live ones, or, for the models a
    rebuild is filling, their shadow copies beside them (`<name>__rebuild`)."""

    tenants: sa.Table
    users: sa.Table
    profiles: sa.Table
    addresses: sa.Table
    wishlist_items: sa.Table
    publishable_keys: sa.Table
    sellers: sa.Table
    plans: sa.Table
    plan_charges: sa.Table
    categories: sa.Table
    products: sa.Table
    product_variants: sa.Table
    shipping_rates: sa.Table
    stock_levels: sa.Table
    organisation_stocks: sa.Table
    stock_shares: sa.Table
    stock_alerts: sa.Table
    carts: sa.Table
    orders: sa.Table
    seller_orders: sa.Table
    reviews: sa.Table
    seller_ratings: sa.Table
    ledger_accounts: sa.Table
    ledger_transfers: sa.Table
    ledger_entries: sa.Table
    refunds: sa.Table
    returns: sa.Table
    payouts: sa.Table
    sales_facts: sa.Table
    seller_daily: sa.Table
    seller_running: sa.Table
    product_daily: sa.Table
    variant_daily: sa.Table
    product_running: sa.Table
    buyer_days: sa.Table
    buyer_day_counts: sa.Table
    marketplace_daily: sa.Table
    analytics_seller_orders: sa.Table
    cart_sellers: sa.Table
    tax_facts: sa.Table
    tax_seller_orders: sa.Table
    promotions: sa.Table
    reconciliation_links: sa.Table
    reconciliations: sa.Table
    organisations: sa.Table
    organisation_marketplaces: sa.Table
    master_products: sa.Table
    master_listings: sa.Table
    webhook_endpoints: sa.Table

    def shadowing(self, names: Iterable[str], *, dialect: str) -> Tables:
        """These tables with the named ones replaced by shadow copies. SQLite names indexes
        per database, so there a shadow's indexes carry the suffix too; MySQL names them per
        table, so there they keep the live names and a rename swaps nothing else."""
        shadow = sa.MetaData()
        copies = {}
        for name in names:
            copy = getattr(self, name).to_metadata(shadow, name=name + SHADOW_SUFFIX)
            if dialect == "sqlite":
                for index in copy.indexes:
                    index.name = f"{index.name}{SHADOW_SUFFIX}"
            copies[name] = copy
        return replace(self, **copies)

    def all(self) -> list[sa.Table]:
        return [getattr(self, f.name) for f in fields(self)]


LIVE = Tables(
    tenants=identity.tenants,
    users=identity.users,
    profiles=profiles.profiles,
    addresses=profiles.addresses,
    wishlist_items=wishlists.wishlist_items,
    publishable_keys=storefront.publishable_keys,
    sellers=catalog.sellers,
    plans=catalog.plans,
    plan_charges=catalog.plan_charges,
    categories=categories.categories,
    products=catalog.products,
    product_variants=catalog.product_variants,
    shipping_rates=catalog.shipping_rates,
    stock_levels=catalog.stock_levels,
    organisation_stocks=catalog.organisation_stocks,
    stock_shares=catalog.stock_shares,
    stock_alerts=catalog.stock_alerts,
    carts=orders.carts,
    orders=orders.orders,
    seller_orders=orders.seller_orders,
    reviews=catalog.reviews,
    seller_ratings=catalog.seller_ratings,
    ledger_accounts=ledger.ledger_accounts,
    ledger_transfers=ledger.ledger_transfers,
    ledger_entries=ledger.ledger_entries,
    refunds=orders.refunds,
    returns=orders.returns,
    payouts=ledger.payouts,
    sales_facts=analytics.sales_facts,
    seller_daily=analytics.seller_daily,
    seller_running=analytics.seller_running,
    product_daily=analytics.product_daily,
    variant_daily=analytics.variant_daily,
    product_running=analytics.product_running,
    buyer_days=analytics.buyer_days,
    buyer_day_counts=analytics.buyer_day_counts,
    marketplace_daily=analytics.marketplace_daily,
    analytics_seller_orders=analytics.analytics_seller_orders,
    cart_sellers=orders.cart_sellers,
    tax_facts=tax.tax_facts,
    tax_seller_orders=tax.tax_seller_orders,
    promotions=promotions.promotions,
    reconciliation_links=reconciliation.reconciliation_links,
    reconciliations=reconciliation.reconciliations,
    organisations=organisations.organisations,
    organisation_marketplaces=organisations.organisation_marketplaces,
    master_products=organisations.master_products,
    master_listings=organisations.master_listings,
    webhook_endpoints=webhooks.webhook_endpoints,
)
