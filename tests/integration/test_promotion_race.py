"""A hundred buyers race to redeem a code limited to ten uses, on both backend sets: exactly ten
orders are made, everyone else is told the promotion is used up and gets nothing, and no stock
is held for them. Then one of the ten is cancelled: its use comes back, and one more buyer gets
it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest

from api.bootstrap import Container
from domain.inventory import Stock
from domain.money import Money
from domain.promotions import Promotion, PromotionUnavailable
from projections.scope import TenantScope
from tests.integration.checkout_race import ADDRESS, ctx

BUYERS, USES = 100, 10


@dataclass
class Raced:
    won: list[UUID] = field(default_factory=list)
    refused: list[PromotionUnavailable] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def shop(c: Container) -> tuple[UUID, UUID, UUID]:
    """A tenant, a product with plenty of stock, and a promotion of 10% limited to 10 uses."""
    tenant = c.identity.register_tenant(
        ctx(),
        name="Race",
        currency="USD",
        commission_bps=1000,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id
    seller = c.sellers.register_seller(
        ctx(), tenant_id=tenant, user_id=uuid4(), display_name="S", country="DE"
    ).id
    c.sellers.approve(ctx(), seller, tenant)
    listed, _ = c.catalog.list_product(
        ctx(),
        seller_id=seller,
        within=tenant,
        sku="MUG",
        title="Mug",
        description="",
        category="c",
        price=Money(1000, "USD"),
        attributes={},
    )
    c.catalog.set_stock(ctx(), listed.id, seller, "main", BUYERS * 2)
    promotion = c.promotions.create(
        ctx(),
        tenant,
        tenant,
        acting_seller=None,
        created_by=uuid4(),
        terms={
            "code": "TEN",
            "kind": "percent",
            "percent": 10,
            "funded_by": "platform",
            "usage_limit": USES,
        },
    ).id
    return tenant, listed.id, promotion


def cart_with_code(c: Container, tenant: UUID, product: UUID) -> tuple[UUID, UUID]:
    buyer = uuid4()
    cart = c.checkout.open_cart(ctx(), tenant, buyer).id
    c.checkout.set_quantity(ctx(), cart, buyer, product, 1)
    c.checkout.apply_code(ctx(), cart, buyer, "TEN")
    return buyer, cart


def race(c: Container, tenant: UUID, carts: list[tuple[UUID, UUID]]) -> Raced:
    raced = Raced()
    start = threading.Barrier(len(carts))

    def one(buyer: UUID, cart: UUID) -> None:
        start.wait()
        try:
            done = c.checkout.checkout(
                ctx(),
                tenant_id=tenant,
                buyer_id=buyer,
                cart_id=cart,
                shipping_address=ADDRESS,
                idempotency_key=str(cart),
            )
            raced.won.append(done.order.id)
        except PromotionUnavailable as e:
            raced.refused.append(e)
        except BaseException as e:
            raced.errors.append(e)

    threads = [threading.Thread(target=one, args=pair) for pair in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return raced


@pytest.fixture(params=["embedded", "servers"])
def both(request: pytest.FixtureRequest) -> Container:
    return request.getfixturevalue(
        "embedded" if request.param == "embedded" else "servers_container"
    )


def test_a_hundred_redemptions_of_a_code_limited_to_ten_make_exactly_ten_orders(
    both: Container,
) -> None:
    c = both
    tenant, product, promotion_id = shop(c)
    carts = [cart_with_code(c, tenant, product) for _ in range(BUYERS)]

    raced = race(c, tenant, carts)

    assert raced.errors == []
    assert len(raced.won) == USES
    assert len(raced.refused) == BUYERS - USES
    assert all("used up" in e.detail for e in raced.refused)
    promotion: Promotion = c.checkout.repository.get(promotion_id)
    assert sorted(promotion.uses) == sorted(str(o) for o in raced.won)
    stock: Stock = c.checkout.repository.get(Stock.create_id(product))
    assert stock.held == USES  # the refused made nothing: no units held for them
    for order_id in raced.won:
        order = c.checkout.repository.get(order_id)
        assert order.total_minor == 900 and order.promotion_ids == [promotion_id]

    # A cancelled order gives its use back: one more buyer gets the code, the next does not.
    c.checkout.cancel(ctx(), raced.won[0], tenant, None)
    again = race(c, tenant, [cart_with_code(c, tenant, product)])
    assert (len(again.won), again.errors) == (1, [])
    with pytest.raises(PromotionUnavailable, match="used up"):
        cart_with_code(c, tenant, product)

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
    c.promotions.create(
        ctx(),
        tenant,
        tenant,
        acting_seller=None,
        created_by=uuid4(),
        terms={"kind": "percent", "percent": 20, "funded_by": "platform", "usage_limit": 5},
    )
    carts = []
    for _ in range(20):
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, product, 1)
        carts.append((buyer, cart))

    raced = race(c, tenant, carts)

    assert (raced.errors, raced.refused, len(raced.won)) == ([], [], 20)
    totals = sorted(c.checkout.repository.get(o).total_minor for o in raced.won)
    assert totals == [800] * 5 + [1000] * 15
