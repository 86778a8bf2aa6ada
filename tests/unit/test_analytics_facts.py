"""The dashboards' facts against a brute-force count over the same orders: paid orders on
chosen days over five months, one of them without any (recorded out of day order too, as
events from clocks a little apart can be, so later months' running totals are made first),
then every range's active buyers, GMV, best sellers and best products, the marketplace's and
each seller's, compared with what the orders say."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import eventsourcing.domain
import pytest

from api.bootstrap import Container
from domain.carts import Cart
from domain.order_lines import PricedLine
from domain.orders import Order, place
from eventstore.context import CommandContext
from projections.analytics.queries import Range
from projections.scope import TenantScope
from tests.conftest import built, make_settings

ADDRESS = {"name": "B", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}
DAY0 = date(2026, 1, 27)


@pytest.fixture(params=["embedded", "servers"])
def container(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    """On the embedded default, and on PostgreSQL + MariaDB, whose upserts and copies of a
    month's rows differ from SQLite's."""
    servers = {}
    if request.param == "servers":
        servers = {
            "eventstore_url": request.getfixturevalue("new_pg_database")(),
            "read_db_url": request.getfixturevalue("new_mysql_database")(),
        }
    c = built(make_settings(tmp_path / "velora", **servers))
    yield c
    c.close()


def test_active_buyers_gmv_and_best_sellers_match_the_orders_for_every_range(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    ctx = CommandContext.system("test")
    tenant = container.identity.register_tenant(
        ctx, name="T", currency="USD", commission_bps=0, escrow_hold_days=0
    ).id
    sellers = [uuid4() for _ in range(3)]
    buyers = [uuid4() for _ in range(4)]
    sold_by = {uuid4(): rng.choice(sellers) for _ in range(8)}  # none in the catalog model
    when = {"now": datetime.now(UTC)}
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: when["now"])
    orders: list[tuple[date, UUID, UUID, int, UUID]] = []  # (day, buyer, seller, amount, product)
    days = [DAY0 + timedelta(days=rng.randrange(150)) for _ in range(60)]
    days = [d for d in days if d.month != 4]  # a month without sales
    for n, day in enumerate(days):  # not sorted: some later days are recorded first
        buyer, product = rng.choice(buyers), rng.choice(list(sold_by))
        seller, amount = sold_by[product], rng.randrange(100, 5_000)
        when["now"] = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        cart = Cart(tenant_id=tenant, buyer_id=buyer)
        cart.set_quantity(product, 1)
        order, parts = place(
            order_id=Order.create_id(tenant, buyer, f"k{n}"),
            tenant_id=tenant,
            idempotency_key=f"k{n}",
            buyer_id=buyer,
            cart_id=cart.id,
            lines=[PricedLine(product, seller, "P", 1, amount, "USD", 0)],
            shipping_address=ADDRESS,
            expires_at=when["now"] + timedelta(hours=1),
        )
        cart.check_out(order.id)
        order.pay("ch")
        for part in parts:
            part.pay()
        container.checkout.record(ctx, cart, order, *parts)
        orders.append((day, buyer, seller, amount, product))
    container.catch_up()

    scope = TenantScope.only(tenant)
    for start_offset in range(0, 150, 6):
        for length in (1, 6, 20, 40, 75, 150):
            start = DAY0 + timedelta(days=start_offset)
            end = start + timedelta(days=length - 1)
            period = Range(start, end, "week")
            inside = [o for o in orders if start <= o[0] <= end]
            got = container.analytics_queries.marketplace(scope, "USD", period)
            totals = got["totals"]
            assert totals["active_buyers"] == len({o[1] for o in inside}), (start, end)
            assert totals["gmv"]["amount"] == sum(o[3] for o in inside)
            assert totals["orders"] == len(inside)
            by_seller: dict[str, int] = {}
            for _, _, seller, amount, _ in inside:
                by_seller[str(seller)] = by_seller.get(str(seller), 0) + amount
            assert {s["seller_id"]: s["gmv"]["amount"] for s in got["top_sellers"]} == by_seller
            assert _best(got["top_products"]) == _best_of(inside)
            # named from the facts, as the catalog model holds none of them
            for p in got["top_products"]:
                assert (p["seller_id"], p["title"]) == (str(sold_by[UUID(p["product_id"])]), "P")
            for seller in sellers:
                theirs = [o for o in inside if o[2] == seller]
                dashboard = container.analytics_queries.seller(scope, str(seller), "USD", period)
                assert _best(dashboard["top_products"]) == _best_of(theirs), (start, end)


def _best(top: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(p["product_id"], p["gmv"]["amount"], p["units"]) for p in top]


def _best_of(orders: list[tuple[date, UUID, UUID, int, UUID]]) -> list[tuple[str, int, int]]:
    """The ten products with the most GMV (ties by id), each with its GMV and units."""
    sums: dict[str, list[int]] = {}
    for _, _, _, amount, product in orders:
        gmv_units = sums.setdefault(str(product), [0, 0])
        gmv_units[0] += amount
        gmv_units[1] += 1
    ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    return [(product, gmv, units) for product, (gmv, units) in ranked]
