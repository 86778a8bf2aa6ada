"""Every (state, command) pair of the seller-order lifecycle, and the order's own payment steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.order_lines import WrongOrderStep
from domain.orders import Order, order_status
from domain.seller_orders import SellerOrder, SellerOrderStatus

S = SellerOrderStatus
COMMANDS = ("pay", "ship", "deliver", "complete", "cancel")
# One row per (state, command): the state it leads to, or None for a wrong step (409).
EXPECTED = {
    (S.PENDING_PAYMENT, "pay"): S.PAID,
    (S.PENDING_PAYMENT, "ship"): None,
    (S.PENDING_PAYMENT, "deliver"): None,
    (S.PENDING_PAYMENT, "complete"): None,
    (S.PENDING_PAYMENT, "cancel"): S.CANCELLED,
    (S.PAID, "pay"): None,
    (S.PAID, "ship"): S.SHIPPED,
    (S.PAID, "deliver"): None,
    (S.PAID, "complete"): None,
    (S.PAID, "cancel"): S.CANCELLED,
    (S.SHIPPED, "pay"): None,
    (S.SHIPPED, "ship"): None,
    (S.SHIPPED, "deliver"): S.DELIVERED,
    (S.SHIPPED, "complete"): None,
    (S.SHIPPED, "cancel"): None,
    (S.DELIVERED, "pay"): None,
    (S.DELIVERED, "ship"): None,
    (S.DELIVERED, "deliver"): None,
    (S.DELIVERED, "complete"): S.COMPLETED,
    (S.DELIVERED, "cancel"): None,
    (S.COMPLETED, "pay"): None,
    (S.COMPLETED, "ship"): None,
    (S.COMPLETED, "deliver"): None,
    (S.COMPLETED, "complete"): None,
    (S.COMPLETED, "cancel"): None,
    (S.CANCELLED, "pay"): None,
    (S.CANCELLED, "ship"): None,
    (S.CANCELLED, "deliver"): None,
    (S.CANCELLED, "complete"): None,
    (S.CANCELLED, "cancel"): None,
    (S.REFUNDED, "pay"): None,
    (S.REFUNDED, "ship"): None,
    (S.REFUNDED, "deliver"): None,
    (S.REFUNDED, "complete"): None,
    (S.REFUNDED, "cancel"): None,
}
EVENT_OF = {
    "pay": SellerOrder.Paid,
    "ship": SellerOrder.Shipped,
    "deliver": SellerOrder.Delivered,
    "complete": SellerOrder.Completed,
    "cancel": SellerOrder.Cancelled,
}
# How to bring a fresh seller order to each state.
PATHS = {
    S.PENDING_PAYMENT: [],
    S.PAID: ["pay"],
    S.SHIPPED: ["pay", "ship"],
    S.DELIVERED: ["pay", "ship", "deliver"],
    S.COMPLETED: ["pay", "ship", "deliver", "complete"],
    S.CANCELLED: ["cancel"],
    S.REFUNDED: ["pay", "refund in full"],
}


def seller_order() -> SellerOrder:
    return SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines=[],
        subtotal_minor=100,
        commission_minor=10,
        seller_net_minor=90,
    )


def run(so: SellerOrder, command: str) -> None:
    if command == "refund in full":
        so.refunded_in_full()  # its settlement paid everything back
    elif command == "ship":
        so.ship("DHL", "JD0001")
    elif command == "cancel":
        so.cancel("test")
    else:
        getattr(so, command)()


def test_the_table_covers_every_pair() -> None:
    assert set(EXPECTED) == {(s, c) for s in S for c in COMMANDS}


@pytest.mark.parametrize(("state", "command"), sorted(EXPECTED, key=str))
def test_seller_order_lifecycle(state: SellerOrderStatus, command: str) -> None:
    so = seller_order()
    for step in PATHS[state]:
        run(so, step)
    assert so.status == state
    so.collect_events()
    expected = EXPECTED[(state, command)]
    if expected is None:
        with pytest.raises(WrongOrderStep):
            run(so, command)
        assert so.status == state and so.collect_events() == []
    else:
        run(so, command)
        assert so.status == expected
        # One step, one event: the money is its settlement's (tests/unit/test_settlement.py).
        assert [type(e) for e in so.collect_events()] == [EVENT_OF[command]]


def test_an_order_is_paid_once_and_cancelled_once() -> None:
    order = Order(
        tenant_id=uuid4(),
        idempotency_key="k",
        buyer_id=uuid4(),
        cart_id=uuid4(),
        currency="USD",
        total_minor=100,
        seller_order_ids=[],
        shipping_address={},
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
    )
    assert not order.is_overdue(datetime.now(UTC))
    assert order.is_overdue(datetime.now(UTC) + timedelta(minutes=31))
    order.pay()
    with pytest.raises(WrongOrderStep):
        order.pay()
    assert not order.is_overdue(datetime.now(UTC) + timedelta(days=1))
    order.cancel("test")
    with pytest.raises(WrongOrderStep):
        order.cancel("again")
    with pytest.raises(WrongOrderStep):
        order.pay()


@pytest.mark.parametrize(
    ("seller_orders", "order"),
    [
        (["pending_payment"], "pending_payment"),
        (["pending_payment", "pending_payment"], "pending_payment"),
        (["paid", "paid"], "paid"),
        (["paid", "shipped"], "paid"),
        (["shipped", "delivered"], "paid"),
        (["delivered", "delivered"], "fulfilled"),
        (["delivered", "completed"], "fulfilled"),
        (["completed", "completed"], "completed"),
        (["cancelled", "cancelled"], "cancelled"),
        (["cancelled", "delivered"], "fulfilled"),
        (["cancelled", "completed"], "completed"),
        (["cancelled", "pending_payment"], "pending_payment"),
    ],
)
def test_the_order_status_is_derived_from_its_seller_orders(
    seller_orders: list[str], order: str
) -> None:
    assert order_status(seller_orders) == order
