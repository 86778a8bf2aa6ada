"""What a provider's payment event means for an order (domain/checkout.outcome_of_payment),
one row per (order, event) -> outcome: a payment is only taken or returned when it is what
the order asked for; anything else flags the order for a person, and a repeat does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from domain.checkout import PaymentOutcome, outcome_of_payment
from domain.orders import Order

P = PaymentOutcome


def pending() -> Order:
    placed = Order(
        tenant_id=uuid4(),
        idempotency_key="k",
        buyer_id=uuid4(),
        cart_id=uuid4(),
        currency="USD",
        total_minor=1_000,
        seller_order_ids=[],
        shipping_address={},
        expires_at=datetime.now(UTC),
    )
    placed.attach_payment_intent("stripe", "pi_1", "secret", 1_000)
    return placed


def paid() -> Order:
    order = pending()
    order.pay("ch_1")
    return order


def cancelled_unpaid() -> Order:
    order = pending()
    order.cancel("expired")
    return order


def cancelled_after_payment() -> Order:
    order = paid()
    order.cancel("cancelled")
    return order


def returned_late() -> Order:
    order = cancelled_unpaid()
    order.record_payment_returned("re_1", 1_000, "USD", "paid late", late=True)
    return order


ROWS = [
    (pending, True, 1_000, "usd", P.PAID),
    (pending, True, 999, "usd", P.FLAGGED),
    (pending, True, 10**12, "usd", P.FLAGGED),
    (pending, True, 1_000, "eur", P.FLAGGED),
    (pending, True, 1_000, "dollars", P.FLAGGED),
    (pending, False, 0, "usd", P.CANCELLED),
    (paid, True, 1_000, "usd", P.IGNORED),
    (paid, False, 1_000, "usd", P.IGNORED),
    (cancelled_unpaid, True, 1_000, "usd", P.REFUNDED),
    (cancelled_unpaid, True, 999, "usd", P.FLAGGED),
    (cancelled_unpaid, True, 10**12, "usd", P.FLAGGED),
    (cancelled_unpaid, True, 1_000, "eur", P.FLAGGED),
    (cancelled_unpaid, False, 1_000, "usd", P.IGNORED),
    (cancelled_after_payment, True, 1_000, "usd", P.IGNORED),
    (returned_late, True, 1_000, "usd", P.IGNORED),
]


@pytest.mark.parametrize(("made", "succeeded", "amount", "currency", "expected"), ROWS)
def test_what_a_payment_event_means(
    made: Callable[[], Order], succeeded: bool, amount: int, currency: str, expected: P
) -> None:
    order = made()
    order.collect_events()
    outcome = outcome_of_payment(order, succeeded=succeeded, amount_minor=amount, currency=currency)
    assert outcome == expected
    flagged = [type(e).__name__ for e in order.collect_events()]
    assert flagged == (["FlaggedForReview"] if expected == P.FLAGGED else [])
