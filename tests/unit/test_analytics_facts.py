"""The dashboards' facts against a brute-force count over the same orders: paid orders on
chosen days (recorded out of day order too, as events from clocks a little apart can be),
then every range's active buyers, GMV and best sellers compared with what the orders say."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import eventsourcing.domain
import pytest

from api.bootstrap import Container
from domain.carts import Cart
from domain.orders import Order, PricedLine, place
from eventstore.context import CommandContext
from projections.orders.analytics import Range
from projections.scope import TenantScope
from tests.conftest import built, make_settings

ADDRESS = {"name": "B", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}
DAY0 = date(2026, 1, 27)


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    c = built(make_settings(tmp_path / "velora"))
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
    when = {"now": datetime.now(UTC)}
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: when["now"])
    orders: list[tuple[date, UUID, UUID, int]] = []  # (day, buyer, seller, amount)
    sold_by: dict[str, str] = {}  # product -> seller; no product is in the catalog model
    days = [DAY0 + timedelta(days=rng.randrange(45)) for _ in range(30)]
    for n, day in enumerate(days):  # not sorted: some later days are recorded first
        buyer, seller = rng.choice(buyers), rng.choice(sellers)
        amount = rng.randrange(100, 5_000)
        when["now"] = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        cart = Cart(tenant_id=tenant, buyer_id=buyer)
        product = uuid4()
        sold_by[str(product)] = str(seller)
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
        orders.append((day, buyer, seller, amount))
    container.catch_up()

    scope = TenantScope.only(tenant)
    for start_offset in range(0, 45, 4):
        for length in (1, 6, 20, 40):
            start = DAY0 + timedelta(days=start_offset)
            end = start + timedelta(days=length - 1)
            inside = [o for o in orders if start <= o[0] <= end]
            got = container.analytics_queries.marketplace(scope, "USD", Range(start, end, "week"))
            totals = got["totals"]
            assert totals["active_buyers"] == len({o[1] for o in inside}), (start, end)
            assert totals["gmv"]["amount"] == sum(o[3] for o in inside)
            assert totals["orders"] == len(inside)
            by_seller: dict[str, int] = {}
            for _, _, seller, amount in inside:
                by_seller[str(seller)] = by_seller.get(str(seller), 0) + amount
            assert {s["seller_id"]: s["gmv"]["amount"] for s in got["top_sellers"]} == by_seller
            assert sum(p["gmv"]["amount"] for p in got["top_products"]) == sum(
                sorted((o[3] for o in inside), reverse=True)[:10]
            )
            # named from the facts, as the catalog model holds none of them
            for p in got["top_products"]:
                assert (p["seller_id"], p["title"]) == (sold_by[p["product_id"]], "P")
