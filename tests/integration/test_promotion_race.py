"""A hundred buyers race to redeem a code limited to ten uses, on both backend sets: exactly ten
orders are made, everyone else is told the promotion is used up and gets nothing, and no stock
is held for them. Then one of the ten is cancelled: its use comes back, and one more buyer gets
it."""

from __future__ import annotations

from uuid import UUID

import pytest

from api.bootstrap import Container
from domain.inventory import Stock
from domain.orders import Order
from domain.promotions import Promotion, PromotionUnavailable
from projections.scope import TenantScope
from tests.integration.checkout_race import (
    Prepare,
    ctx,
    marketplace,
    open_carts,
    platform_promotion,
    race_checkouts,
    stocked,
)

BUYERS, USES, CODE = 100, 10, "TEN"


def shop(c: Container) -> tuple[UUID, UUID, UUID]:
    """A tenant, a product with plenty of stock, and a promotion of 10% limited to 10 uses."""
    tenant, seller = marketplace(c, commission_bps=1000)
    product = stocked(c, tenant, seller, "MUG", BUYERS * 2)
    promotion = platform_promotion(
        c, tenant, code=CODE, kind="percent", percent=10, usage_limit=USES
    )
    return tenant, product, promotion


def with_code(c: Container) -> Prepare:
    """Applies the code to a buyer's cart."""
    return lambda buyer, cart: c.checkout.apply_code(ctx(), cart, buyer, CODE)


@pytest.fixture(params=["embedded", "servers"])
def both(request: pytest.FixtureRequest) -> Container:
    name = "embedded" if request.param == "embedded" else "servers_container"
    container: Container = request.getfixturevalue(name)
    return container


def test_a_hundred_redemptions_of_a_code_limited_to_ten_make_exactly_ten_orders(
    both: Container,
) -> None:
    c = both
    tenant, product, promotion_id = shop(c)

    raced = race_checkouts(
        c, tenant, product, BUYERS, prepare=with_code(c), refusal=PromotionUnavailable
    )

    assert raced.errors == []
    assert len(raced.won) == USES
    assert len(raced.refused) == BUYERS - USES
    assert all("used up" in e.detail for e in raced.refused)
    promotion: Promotion = c.checkout.repository.get(promotion_id)
    assert sorted(promotion.uses) == sorted(str(o) for o in raced.won)
    stock: Stock = c.checkout.repository.get(Stock.create_id(product))
    assert stock.held == USES  # the refused made nothing: no units held for them
    for order_id in raced.won:
        order: Order = c.checkout.repository.get(order_id)
        assert order.total_minor == 900 and order.promotion_ids == [promotion_id]

    # A cancelled order gives its use back: one more buyer gets the code, the next does not.
    c.checkout.cancel(ctx(), raced.won[0], tenant, None)
    again = race_checkouts(
        c, tenant, product, 1, prepare=with_code(c), refusal=PromotionUnavailable
    )
    assert (len(again.won), again.errors) == (1, [])
    with pytest.raises(PromotionUnavailable, match="used up"):
        open_carts(c, tenant, product, 1, prepare=with_code(c))

    c.catch_up()
    listed = c.promotion_queries.page(
        TenantScope.only(tenant), seller_id=None, limit=10, cursor=None
    )
    assert [(p["uses"], p["status"]) for p in listed.items] == [(USES, "used_up")]


def test_an_automatic_promotion_used_up_in_a_race_is_passed_over_not_refused(
    both: Container,
) -> None:
    """Twenty buyers race with an automatic promotion limited to five uses: every checkout is
    made, five of them discounted (none asked for it, so none is refused for it)."""
    c = both
    tenant, product, _ = shop(c)
    platform_promotion(c, tenant, kind="percent", percent=20, usage_limit=5)

    raced = race_checkouts(c, tenant, product, 20, refusal=PromotionUnavailable)

    assert (raced.errors, raced.refused, len(raced.won)) == ([], [], 20)
    totals: list[int] = sorted(c.checkout.repository.get(o).total_minor for o in raced.won)
    assert totals == [800] * 5 + [1000] * 15
