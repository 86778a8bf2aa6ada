"""Many buyers check out at once, each their own one-line cart: who won, who was refused (told
the line lacks stock, or the code is used up: whichever the race is about), and anything else
that went wrong (which a race test expects to be nothing). Also the shop the races are run in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from api.bootstrap import Container
from domain.errors import DomainError
from domain.money import Money
from domain.order_lines import LineUnavailable
from eventstore.context import CommandContext

ADDRESS = {"name": "R", "line1": "1 St", "city": "X", "postal_code": "1", "country": "DE"}
PRICE_MINOR = 1000

# What a race counts as refused rather than as an error, as `except` takes it.
Refusal = type[DomainError] | tuple[type[DomainError], ...]
# Readies a buyer's cart before the race (a code applied, say): called with (buyer, cart).
Prepare = Callable[[UUID, UUID], object]


def ctx() -> CommandContext:
    return CommandContext.system("race")


def marketplace(c: Container, *, commission_bps: int = 0) -> tuple[UUID, UUID]:
    """A tenant whose products go live at once and whose escrow is released at once, and one
    approved seller of it: (tenant, seller)."""
    tenant = c.identity.register_tenant(
        ctx(),
        name="Race",
        currency="USD",
        commission_bps=commission_bps,
        escrow_hold_days=0,
        product_moderation="auto",
    ).id
    seller = c.sellers.register_seller(
        ctx(), tenant_id=tenant, user_id=uuid4(), display_name="S", country="DE"
    ).id
    c.sellers.approve(ctx(), seller, tenant)
    return tenant, seller


def stocked(c: Container, tenant: UUID, seller: UUID, sku: str, units: int) -> UUID:
    """A product of the seller's (one variant, at PRICE_MINOR cents) with `units` in stock."""
    listed, _ = c.catalog.list_product(
        ctx(),
        seller_id=seller,
        within=tenant,
        sku=sku,
        title=sku.title(),
        description="",
        category="c",
        price=Money(PRICE_MINOR, "USD"),
        attributes={},
    )
    c.catalog.set_stock(ctx(), listed.id, seller, "main", units)
    return listed.id


def platform_promotion(c: Container, tenant: UUID, **terms: Any) -> UUID:
    """A promotion the marketplace makes and pays for, on `terms` as the promotions application
    takes them (a percent kind's `value` is `percent`)."""
    return c.promotions.create(
        ctx(),
        tenant,
        tenant,
        acting_seller=None,
        created_by=uuid4(),
        terms={"funded_by": "platform", **terms},
    ).id


@dataclass
class RaceResult:
    won: list[UUID] = field(default_factory=list)
    refused: list[DomainError] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def open_carts(
    c: Container, tenant: UUID, line: UUID, buyers: int, prepare: Prepare | None = None
) -> list[tuple[UUID, UUID]]:
    """`buyers` new buyers' carts of one unit of `line` each, each then `prepare`d: (buyer,
    cart) pairs."""
    carts = []
    for _ in range(buyers):
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, line, 1)
        if prepare is not None:
            prepare(buyer, cart)
        carts.append((buyer, cart))
    return carts


def together(calls: Sequence[Callable[[], object]], timeout: float) -> None:
    """Runs each call in a thread of its own, all let go at once from behind one barrier, and
    fails if any has not finished within `timeout` seconds."""
    start = threading.Barrier(len(calls))

    def at_once(call: Callable[[], object]) -> None:
        start.wait()
        call()

    threads = [threading.Thread(target=at_once, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in threads), f"a racer ran past {timeout} s"


def race(
    c: Container,
    tenant: UUID | Sequence[UUID],
    carts: Sequence[tuple[UUID, UUID]],
    *,
    refusal: Refusal = LineUnavailable,
    timeout: float = 300,
) -> RaceResult:
    """Checks the (buyer, cart) pairs out together, all in `tenant` (or each in its own, given
    one tenant per cart); each checkout either wins an order, is refused with `refusal`, or
    fails in some other way (an error)."""
    result = RaceResult()
    where = [tenant] * len(carts) if isinstance(tenant, UUID) else list(tenant)

    def check_out(tenant: UUID, buyer: UUID, cart: UUID) -> None:
        try:
            done = c.checkout.checkout(
                ctx(),
                tenant_id=tenant,
                buyer_id=buyer,
                cart_id=cart,
                shipping_address=ADDRESS,
                idempotency_key=str(cart),
            )
            result.won.append(done.order.id)
        except refusal as e:
            result.refused.append(e)
        except BaseException as e:
            result.errors.append(e)

    calls = [partial(check_out, t, b, c_) for t, (b, c_) in zip(where, carts, strict=True)]
    together(calls, timeout)
    return result


def race_checkouts(
    c: Container,
    tenant: UUID,
    line: UUID,
    buyers: int,
    timeout: float = 300,
    *,
    prepare: Prepare | None = None,
    refusal: Refusal = LineUnavailable,
) -> RaceResult:
    """`buyers` carts of one unit of `line` each (each `prepare`d), checked out together from
    behind a barrier."""
    carts = open_carts(c, tenant, line, buyers, prepare)
    return race(c, tenant, carts, refusal=refusal, timeout=timeout)
