"""An organisation's fulfilment queue and dashboard (docs/api-seller-pro.md, "One fulfilment
queue and one dashboard"): its seller orders, balances, payouts and analytics across the
marketplaces it joined.

**Reach.** Every read goes through the organisation's `Reach`: the scope of the tenants it
joined (`OrganisationQueries.marketplaces_of`), which filters each table by tenant in the one
place every query is filtered (projections/scope.py), and its seller in each of them, which
filters by seller. Both locks are needed: the scope alone would show every seller of those
tenants, and a seller filter alone would rest the tenancy on ids alone.

**Money stays per marketplace.** A balance or an analytics figure of one marketplace is exactly
what its seller's own routes answer (`LedgerQueries.seller_balance`, `AnalyticsQueries.seller`),
in that marketplace's currency. Totals are per currency: two marketplaces that sell in euros add
up, euros and dollars never do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from domain.money import divide_half_even, money_json
from projections.analytics.queries import AnalyticsQueries, Range
from projections.identity.tables import tenants
from projections.ledger.queries import LedgerQueries, payout_view
from projections.ledger.tables import payouts
from projections.orders.tables import seller_orders
from projections.orders.views import seller_order_view
from projections.organisations.queries import OrganisationQueries
from projections.organisations.tables import organisation_marketplaces, organisations
from projections.scope import TenantScope
from projections.store import Page, ReadStore, decode_cursor, encode_cursor

# What the dashboard adds up per currency: amounts (in minor units), and counts.
AMOUNTS = ("gmv", "refunds", "commission", "net")
COUNTS = ("orders", "units")


@dataclass(frozen=True)
class Reach:
    """Where an organisation reads its own rows: the tenants it joined, and its seller in each
    (in the order it joined them)."""

    scope: TenantScope
    sellers: dict[str, str]  # tenant id -> the organisation's seller there

    def narrowed_to(self, tenant_id: str) -> Reach | None:
        """Its reach in one marketplace; None where it has not joined."""
        if tenant_id not in self.sellers or not self.scope.allows(tenant_id):
            return None
        return Reach(self.scope.narrowed_to(tenant_id), {tenant_id: self.sellers[tenant_id]})

    def seller_ids(self) -> list[str]:
        return sorted(set(self.sellers.values()))


class OrganisationDashboard:
    def __init__(self, store: ReadStore) -> None:
        self.store = store
        self.organisations = OrganisationQueries(store)
        self.ledger = LedgerQueries(store)
        self.sales = AnalyticsQueries(store)

    def reach(self, caller: TenantScope, organisation_id: str) -> Reach | None:
        """The organisation's reach, if the caller's scope holds the organisation (its row is
        the platform's); None for an unknown one."""
        o, m = organisations, organisation_marketplaces
        with self.store.read() as conn:
            found = conn.execute(
                caller.select(o, o.c.organisation_id == organisation_id).with_only_columns(
                    o.c.organisation_id
                )
            ).first()
        if found is None:
            return None
        scope = self.organisations.marketplaces_of(organisation_id)
        with self.store.read() as conn:
            joined = conn.execute(
                scope.select(m, m.c.organisation_id == organisation_id)
                .with_only_columns(m.c.tenant_id, m.c.seller_id)
                .order_by(m.c.created_position)
            )
            return Reach(scope, {row.tenant_id: row.seller_id for row in joined})

    def seller_orders(
        self, reach: Reach, *, status: str | None, limit: int, cursor: str | None
    ) -> Page:
        """Its seller orders in every marketplace of its reach, newest first, each as
        `GET /v1/seller-orders/{id}` shows it (which names its tenant)."""
        so = seller_orders
        before = decode_cursor(cursor)
        where: list[sa.ColumnElement[bool]] = [so.c.seller_id.in_(reach.seller_ids())]
        if status:
            where.append(so.c.status == status)
        if before:
            where.append(so.c.created_position < before)
        stmt = (
            reach.scope.select(so, *where).order_by(so.c.created_position.desc()).limit(limit + 1)
        )
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            [seller_order_view(r) for r in rows],
            encode_cursor(rows[-1]["created_position"]) if more else None,
        )

    def payouts(self, reach: Reach, *, limit: int, cursor: str | None) -> Page:
        """Its payouts in every marketplace of its reach, oldest first, as `GET /v1/payouts`
        lists a seller's."""
        p = payouts
        page = self.store.page(
            reach.scope, p, p.c.seller_id.in_(reach.seller_ids()), limit=limit, cursor=cursor
        )
        return Page([payout_view(r) for r in page.items], page.next_cursor)

    def balances(self, reach: Reach) -> list[dict[str, Any]]:
        """Per marketplace, in the order it joined them: its seller's balance there, in that
        marketplace's currency, as `GET /v1/sellers/{id}/balance` answers it."""
        currencies = self._currencies(reach)
        return [
            {
                "tenant_id": tenant_id,
                "seller_id": seller_id,
                **self.ledger.seller_balance(
                    reach.scope.narrowed_to(tenant_id), seller_id, currencies[tenant_id]
                ),
            }
            for tenant_id, seller_id in reach.sellers.items()
            if tenant_id in currencies
        ]

    def analytics(self, reach: Reach, start: date, end: date) -> dict[str, Any]:
        """Per marketplace, its seller's totals over whole UTC days `start`..`end` as
        `GET /v1/sellers/{id}/analytics` counts them; and the totals per currency."""
        currencies = self._currencies(reach)
        period = Range(start, end, "month")  # the series is not shown: the fewest points
        marketplaces: list[dict[str, Any]] = []
        sums: dict[str, dict[str, int]] = {}
        for tenant_id, seller_id in reach.sellers.items():
            currency = currencies.get(tenant_id)
            if currency is None:
                continue
            within = reach.scope.narrowed_to(tenant_id)
            figures = self.sales.seller(within, seller_id, currency, period)["totals"]
            totals = {k: figures[k] for k in (*AMOUNTS, *COUNTS, "average_order_value")}
            marketplaces.append(
                {
                    "tenant_id": tenant_id,
                    "seller_id": seller_id,
                    "currency": currency,
                    "totals": totals,
                }
            )
            summed = sums.setdefault(currency, dict.fromkeys((*AMOUNTS, *COUNTS), 0))
            for name in AMOUNTS:
                summed[name] += totals[name]["amount"]
            for name in COUNTS:
                summed[name] += totals[name]
        return {
            "marketplaces": marketplaces,
            "totals": [_in_total(currency, sums[currency]) for currency in sorted(sums)],
        }

    def _currencies(self, reach: Reach) -> dict[str, str]:
        """Each joined marketplace's currency. One whose tenant row the identity projection
        has not written yet (a rebuild under way) is left out until it has."""
        t = tenants
        with self.store.read() as conn:
            found = conn.execute(
                reach.scope.select(t).with_only_columns(t.c.tenant_id, t.c.currency)
            )
            return {row.tenant_id: row.currency for row in found}


def _in_total(currency: str, summed: dict[str, int]) -> dict[str, Any]:
    gmv, orders = summed["gmv"], summed["orders"]
    return {
        "currency": currency,
        "gmv": money_json(gmv, currency),
        "orders": orders,
        "units": summed["units"],
        "average_order_value": money_json(divide_half_even(gmv, orders) if orders else 0, currency),
        "refunds": money_json(summed["refunds"], currency),
        "commission": money_json(summed["commission"], currency),
        "net": money_json(summed["net"], currency),
    }
