"""Many buyers check out at once, each their own one-line cart: who won, who was told the line
lacks stock, and anything else that went wrong (which a race test expects to be nothing)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from uuid import UUID, uuid4

from api.bootstrap import Container
from domain.order_lines import LineUnavailable
from eventstore.context import CommandContext

ADDRESS = {"name": "R", "line1": "1 St", "city": "X", "postal_code": "1", "country": "DE"}


def ctx() -> CommandContext:
    return CommandContext.system("race")


@dataclass
class RaceResult:
    won: list[UUID] = field(default_factory=list)
    refused: list[LineUnavailable] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def race_checkouts(
    c: Container, tenant: UUID, line: UUID, buyers: int, timeout: float = 300
) -> RaceResult:
    """`buyers` carts of one unit of `line` each, checked out together from behind a barrier."""
    carts = []
    for _ in range(buyers):
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, line, 1)
        carts.append((buyer, cart))

    result = RaceResult()
    start = threading.Barrier(buyers)

    def race(buyer: UUID, cart: UUID) -> None:
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
            result.won.append(done.order.id)
        except LineUnavailable as e:
            result.refused.append(e)
        except BaseException as e:
            result.errors.append(e)

    threads = [threading.Thread(target=race, args=pair) for pair in carts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return result
