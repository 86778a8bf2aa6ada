"""The analytics dashboards, read from the facts the analytics and cart projectors keep per day
(`seller_daily`, `product_daily`, `buyer_days`, `marketplace_daily`, `cart_sellers`), as
running totals through each month (`seller_running`, `product_running`), and as per-day counts
of buyers by the month of their day before (`buyer_day_counts`).

Every figure is in the tenant's currency, in minor units. A range is whole UTC days, both ends
included; a series has one point per day, ISO week (from its Monday) or calendar month that the
range touches, empty ones included, so a chart needs no gaps filled. What a dashboard reads is
bounded by its range's days and the number of sellers and products, not by the number of
orders: the marketplace's series is a row per day; its best sellers and products are the running
totals through the range's end less those through the day before it (two months' rows and at
most half a month of days at each end); its active buyers are each buyer's first day in the
range (the day whose previous one falls before it), summed per day and month, so no DISTINCT is
needed. The sales report (`sales_report`) sums each seller order's money facts (`sales_facts`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from domain.commission import BPS_DENOMINATOR
from domain.money import divide_half_even, money_json
from projections.analytics.tables import (
    buyer_day_counts,
    buyer_days,
    marketplace_daily,
    product_daily,
    product_running,
    sales_facts,
    seller_daily,
    seller_running,
    variant_daily,
)
from projections.catalog.tables import products, sellers
from projections.orders.tables import cart_sellers
from projections.scope import TenantScope
from projections.store import ReadStore

TOP = 10
INTERVALS = ("day", "week", "month")


@dataclass(frozen=True)
class Range:
    start: date
    end: date  # inclusive
    interval: str

    def bucket(self, day: date) -> date:
        """The first day of the series point `day` falls in."""
        if self.interval == "week":
            return day - timedelta(days=day.weekday())
        if self.interval == "month":
            return day.replace(day=1)
        return day

    def buckets(self) -> list[date]:
        found: list[date] = []
        day = self.start
        while day <= self.end:
            bucket = self.bucket(day)
            if not found or found[-1] != bucket:
                found.append(bucket)
            day += timedelta(days=1)
        return found


def _month_last(day: date) -> date:
    if (day.year, day.month) == (9999, 12):
        return date.max
    return date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)


def _ratio_bps(part: int, whole: int) -> int | None:
    return divide_half_even(part * BPS_DENOMINATOR, whole) if whole else None


class AnalyticsQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def seller(
        self, scope: TenantScope, seller_id: str, currency: str, period: Range
    ) -> dict[str, Any]:
        """GMV, orders, units, average order value, refunds, commission and net per point and
        in total; the seller's top products by GMV; and how many of the carts that held its
        products became orders of it."""
        d = seller_daily
        where = [
            d.c.seller_id == seller_id,
            d.c.currency == currency,
            d.c.day >= period.start,
            d.c.day <= period.end,
        ]
        with self.store.read() as conn:
            days = conn.execute(
                scope.select(d, *where).with_only_columns(
                    d.c.day,
                    d.c.gmv,
                    d.c.commission,
                    d.c.refunds,
                    d.c.orders,
                    d.c.units,
                    d.c.placed,
                )
            ).all()
            top = self._top_products(conn, scope, currency, period, seller_id)
            c = cart_sellers
            carts = conn.execute(
                scope.select(
                    c, c.c.seller_id == seller_id, c.c.day >= period.start, c.c.day <= period.end
                ).with_only_columns(sa.func.count())
            ).scalar()
        fields = ("gmv", "commission", "refunds", "orders", "units", "placed")
        series = _series(period, days, fields)
        totals = {f: sum(point[f] for point in series.values()) for f in fields}
        return {
            "currency": currency,
            "totals": _seller_figures(totals, currency)
            | {
                "conversion": {
                    "carts": int(carts or 0),
                    "orders": totals["placed"],
                    "rate_bps": _ratio_bps(totals["placed"], int(carts or 0)),
                }
            },
            "series": [
                {"start": start} | _seller_figures(point, currency)
                for start, point in series.items()
            ],
            "top_products": top,
        }

    def marketplace(self, scope: TenantScope, currency: str, period: Range) -> dict[str, Any]:
        """GMV, commission, take rate, orders, active buyers and new sellers in total, GMV,
        commission and orders per point, and the top sellers and products by GMV."""
        m, s = marketplace_daily, sellers
        with self.store.read() as conn:
            days = conn.execute(
                scope.select(
                    m, m.c.currency == currency, m.c.day >= period.start, m.c.day <= period.end
                ).with_only_columns(m.c.day, m.c.gmv, m.c.commission, m.c.refunds, m.c.orders)
            ).all()
            buyers = self._active_buyers(conn, scope, period)
            new_sellers = conn.execute(
                scope.select(
                    s,
                    s.c.created_at >= datetime.combine(period.start, time()),
                    s.c.created_at < datetime.combine(period.end + timedelta(days=1), time()),
                ).with_only_columns(sa.func.count())
            ).scalar()
            top_sellers = self._top_sellers(conn, scope, currency, period)
            top_products = self._top_products(conn, scope, currency, period, None)
        fields = ("gmv", "commission", "refunds", "orders")
        series = _series(period, days, fields)
        totals = {f: sum(point[f] for point in series.values()) for f in fields}
        return {
            "currency": currency,
            "totals": {
                "gmv": money_json(totals["gmv"], currency),
                "commission": money_json(totals["commission"], currency),
                "refunds": money_json(totals["refunds"], currency),
                "take_rate_bps": _ratio_bps(totals["commission"], totals["gmv"]),
                "orders": totals["orders"],
                "active_buyers": int(buyers or 0),
                "new_sellers": int(new_sellers or 0),
            },
            "series": [
                {
                    "start": start,
                    "gmv": money_json(point["gmv"], currency),
                    "commission": money_json(point["commission"], currency),
                    "refunds": money_json(point["refunds"], currency),
                    "orders": point["orders"],
                }
                for start, point in series.items()
            ],
            "top_sellers": top_sellers,
            "top_products": top_products,
        }

    @staticmethod
    def _active_buyers(conn: sa.Connection, scope: TenantScope, period: Range) -> int:
        """The buyers with a paid order in the range: its days' buyers whose day before falls
        before the range, summed from buyer_day_counts for the months before the range's first,
        and for that month counted from buyer_days: its days before the range added, or its
        days in the range taken from the month's sum, whichever reads fewer days."""
        g, b = buyer_day_counts, buyer_days
        start, end = period.start, period.end
        month = start.replace(day=1)
        month_end = min(end, _month_last(start))
        in_range = (g.c.day >= start, g.c.day <= end)
        parts = [
            scope.select(g, *in_range, g.c.previous_month < month).with_only_columns(
                sa.func.coalesce(sa.func.sum(g.c.buyers), 0)
            )
        ]
        passed = max(0, (min(month_end, datetime.now(UTC).date()) - start).days + 1)
        returned = (b.c.day >= start, b.c.day <= end)
        if start.day - 1 <= passed:
            if start > month:
                before = b.c.previous_day.between(month, start - timedelta(days=1))
                parts.append(scope.select(b, *returned, before).with_only_columns(sa.func.count()))
        else:
            parts.append(
                scope.select(g, *in_range, g.c.previous_month == month).with_only_columns(
                    sa.func.coalesce(sa.func.sum(g.c.buyers), 0)
                )
            )
            parts.append(
                scope.select(
                    b, *returned, b.c.previous_day.between(start, month_end)
                ).with_only_columns(-sa.func.count())
            )
        row = conn.execute(sa.select(*(p.scalar_subquery() for p in parts))).one()
        return sum(int(v) for v in row)

    @staticmethod
    def _between(
        scope: TenantScope,
        daily: sa.Table,
        running: sa.Table,
        period: Range,
        key: str,
        values: tuple[str, ...],
        *where: Any,
    ) -> sa.Subquery:
        """Rows of (key, *values) whose sums per key are the key's totals over the range: its
        running totals through the range's end less those through the day before it, each read
        as a month's rows and the days between that month's end and the day (added or taken
        away), whichever side of the month holds fewer days that have passed."""
        parts = []
        ends = [(period.end, 1)]
        if period.start > date.min:
            ends.append((period.start - timedelta(days=1), -1))
        today = datetime.now(UTC).date()
        for through, sign in ends:
            month, days, days_sign = _through(through, today)
            held = (
                scope.select(running, *(w(running) for w in where), running.c.month <= month)
                .with_only_columns(sa.func.max(running.c.month))
                .scalar_subquery()
            )
            parts.append(
                scope.select(
                    running, *(w(running) for w in where), running.c.month == held
                ).with_only_columns(running.c[key], *_signed(running, values, sign))
            )
            if days is not None:
                parts.append(
                    scope.select(
                        daily, *(w(daily) for w in where), daily.c.day.between(*days)
                    ).with_only_columns(daily.c[key], *_signed(daily, values, sign * days_sign))
                )
        return sa.union_all(*parts).subquery()

    def _top_products(
        self,
        conn: sa.Connection,
        scope: TenantScope,
        currency: str,
        period: Range,
        seller_id: str | None,
    ) -> list[dict[str, Any]]:
        where = [lambda t: t.c.currency == currency]
        if seller_id is not None:
            where.append(lambda t: t.c.seller_id == seller_id)
        p = self._between(
            scope, product_daily, product_running, period, "product_id", ("gmv", "units"), *where
        )
        # Grouped by product alone (its seller is looked up for the ten): grouping by seller too
        # made the database compare two keys per row.
        gmv, units = sa.func.sum(p.c.gmv).label("gmv"), sa.func.sum(p.c.units).label("units")
        rows = conn.execute(
            sa.select(p.c.product_id, gmv, units)
            .group_by(p.c.product_id)
            .having(units != 0)
            .order_by(gmv.desc(), p.c.product_id)
            .limit(TOP)
        ).all()
        named = self._products_named(conn, scope, [r.product_id for r in rows])
        variants = self._variants_sold(conn, scope, currency, period, [r.product_id for r in rows])
        return [
            {
                "product_id": r.product_id,
                "seller_id": named[r.product_id][0],
                "title": named[r.product_id][1],
                "units": int(r.units),
                "gmv": money_json(int(r.gmv), currency),
                "variants": variants.get(r.product_id, []),
            }
            for r in rows
        ]

    @staticmethod
    def _variants_sold(
        conn: sa.Connection, scope: TenantScope, currency: str, period: Range, ids: list[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """The best products' sales by variant over the range, best first: the ten's daily rows
        (a product without variants sells as its one variant, under its own id)."""
        if not ids:
            return {}
        v = variant_daily
        gmv, units = sa.func.sum(v.c.gmv).label("gmv"), sa.func.sum(v.c.units).label("units")
        query = (
            scope.select(
                v,
                v.c.product_id.in_(ids),
                v.c.currency == currency,
                v.c.day.between(period.start, period.end),
            )
            .with_only_columns(
                v.c.product_id,
                v.c.variant_id,
                sa.func.max(v.c.sku).label("sku"),
                gmv,
                units,
            )
            .group_by(v.c.product_id, v.c.variant_id)
            .order_by(gmv.desc(), v.c.variant_id)
        )
        sold: dict[str, list[dict[str, Any]]] = {}
        for row in conn.execute(query):
            sold.setdefault(row.product_id, []).append(
                {
                    "variant_id": row.variant_id,
                    "sku": row.sku,
                    "units": int(row.units),
                    "gmv": money_json(int(row.gmv), currency),
                }
            )
        return sold

    @staticmethod
    def _products_named(
        conn: sa.Connection, scope: TenantScope, ids: list[str]
    ) -> dict[str, tuple[str, str]]:
        """Each product's seller and title from the catalog model, or, for one it does not hold
        (yet), from the facts (the title it sold under)."""
        p, d = products, product_daily
        named = {
            row.product_id: (row.seller_id, row.title)
            for row in conn.execute(
                scope.select(p, p.c.product_id.in_(ids)).with_only_columns(
                    p.c.product_id, p.c.seller_id, p.c.title
                )
            )
        }
        for product_id in set(ids) - named.keys():
            row = conn.execute(
                scope.select(d, d.c.product_id == product_id)
                .with_only_columns(d.c.seller_id, d.c.title)
                .limit(1)
            ).one()
            named[product_id] = (row.seller_id, row.title)
        return named

    def _top_sellers(
        self, conn: sa.Connection, scope: TenantScope, currency: str, period: Range
    ) -> list[dict[str, Any]]:
        d = self._between(
            scope,
            seller_daily,
            seller_running,
            period,
            "seller_id",
            ("gmv", "commission", "refunds", "orders", "placed"),
            lambda t: t.c.currency == currency,
        )
        gmv, orders = sa.func.sum(d.c.gmv).label("gmv"), sa.func.sum(d.c.orders).label("orders")
        figures = (gmv, orders, sa.func.sum(d.c.refunds), sa.func.sum(d.c.placed))
        rows = conn.execute(
            sa.select(d.c.seller_id, gmv, sa.func.sum(d.c.commission).label("commission"), orders)
            .group_by(d.c.seller_id)
            .having(sa.or_(*(f != 0 for f in figures)))  # a seller with figures in the range
            .order_by(gmv.desc(), d.c.seller_id)
            .limit(TOP)
        ).all()
        names = dict(
            conn.execute(
                scope.select(
                    sellers, sellers.c.seller_id.in_([r.seller_id for r in rows])
                ).with_only_columns(sellers.c.seller_id, sellers.c.display_name)
            ).all()
        )
        return [
            {
                "seller_id": r.seller_id,
                "display_name": names.get(r.seller_id, ""),
                "orders": int(r.orders),
                "gmv": money_json(int(r.gmv), currency),
                "commission": money_json(int(r.commission), currency),
            }
            for r in rows
        ]


def sales_report(
    store: ReadStore, scope: TenantScope, *, start: date, end: date, group_by: str
) -> Iterator[dict[str, Any]]:
    """GMV, commission, refunds and net per seller or per day over [start, end], streamed from
    the database in key order, so a long range never sits in memory at once."""
    f = sales_facts
    key = f.c.seller_id if group_by == "seller" else f.c.day
    stmt = (
        scope.select(f, f.c.day >= start, f.c.day <= end)
        .with_only_columns(
            key.label("key"),
            f.c.currency,
            sa.func.sum(f.c.gmv),
            sa.func.sum(f.c.commission),
            sa.func.sum(f.c.refunds),
        )
        .group_by(key, f.c.currency)
        .order_by(key, f.c.currency)
    )
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=500).execute(stmt)
        for group, currency, gmv, commission, refunded in result:
            gmv, commission, refunded = int(gmv), int(commission), int(refunded)
            yield {
                group_by: str(group),
                "currency": currency,
                "gmv": gmv,
                "commission": commission,
                "refunds": refunded,
                "net": gmv - refunded - commission,
            }


def _through(day: date, today: date) -> tuple[date, tuple[date, date] | None, int]:
    """A day's running totals as (the month whose rows to read; the days to read beside them,
    or None; +1 if those days are added, -1 if taken away): through the day's month less the
    days after it, or through the month before plus the days up to it, whichever reads fewer
    days that have passed (none after `today` holds figures yet, but they are read all the
    same, so a clock a little ahead loses nothing)."""
    first, last = day.replace(day=1), _month_last(day)
    if day == last:
        return first, None, 1
    if first == date.min or max(0, (min(last, today) - day).days) <= day.day:
        return first, (day + timedelta(days=1), last), -1
    return (first - timedelta(days=1)).replace(day=1), (first, day), 1


def _signed(table: sa.Table, names: tuple[str, ...], sign: int) -> list[Any]:
    return [(table.c[n] if sign > 0 else -table.c[n]).label(n) for n in names]


def _series(
    period: Range, rows: Iterable[Any], fields: tuple[str, ...]
) -> dict[date, dict[str, int]]:
    """Rows of (day, *fields) summed into the range's points, empty ones included."""
    series = {start: dict.fromkeys(fields, 0) for start in period.buckets()}
    for row in rows:
        point = series[period.bucket(row[0])]
        for name, value in zip(fields, row[1:], strict=True):
            point[name] += int(value or 0)
    return series


def _seller_figures(point: dict[str, int], currency: str) -> dict[str, Any]:
    gmv, orders = point["gmv"], point["orders"]
    return {
        "gmv": money_json(gmv, currency),
        "orders": orders,
        "units": point["units"],
        "average_order_value": money_json(divide_half_even(gmv, orders) if orders else 0, currency),
        "refunds": money_json(point["refunds"], currency),
        "commission": money_json(point["commission"], currency),
        "net": money_json(gmv - point["refunds"] - point["commission"], currency),
    }
