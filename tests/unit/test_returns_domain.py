"""The return lifecycle, every (state, command) pair of it; the return window; and what a
seller order lets a return hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.order_lines import LineUnavailable, WrongOrderStep
from domain.returns import (
    TRANSITIONS,
    InvalidReturn,
    OutsideReturnWindow,
    ReceivedLine,
    Return,
    ReturnStatus,
    WrongReturnStep,
    check_window,
)
from domain.seller_orders import NotReturnable, SellerOrder
from domain.settlement import Settlement

R = ReturnStatus
PRODUCT = uuid4()
COMMANDS = ("authorize", "reject", "ship", "receive")
# One row per (state, command): the state it leads to, or None for a wrong step (409).
EXPECTED = {
    (R.REQUESTED, "authorize"): R.AUTHORIZED,
    (R.REQUESTED, "reject"): R.REJECTED,
    (R.REQUESTED, "ship"): None,
    (R.REQUESTED, "receive"): None,
    (R.AUTHORIZED, "authorize"): None,
    (R.AUTHORIZED, "reject"): None,
    (R.AUTHORIZED, "ship"): R.IN_TRANSIT,
    (R.AUTHORIZED, "receive"): R.RECEIVED,
    (R.REJECTED, "authorize"): None,
    (R.REJECTED, "reject"): None,
    (R.REJECTED, "ship"): None,
    (R.REJECTED, "receive"): None,
    (R.IN_TRANSIT, "authorize"): None,
    (R.IN_TRANSIT, "reject"): None,
    (R.IN_TRANSIT, "ship"): None,
    (R.IN_TRANSIT, "receive"): R.RECEIVED,
    (R.RECEIVED, "authorize"): None,
    (R.RECEIVED, "reject"): None,
    (R.RECEIVED, "ship"): None,
    (R.RECEIVED, "receive"): None,
}
PATHS = {
    R.REQUESTED: [],
    R.AUTHORIZED: ["authorize"],
    R.REJECTED: ["reject"],
    R.IN_TRANSIT: ["authorize", "ship"],
    R.RECEIVED: ["authorize", "ship", "receive"],
}
EVENT_OF = {
    "authorize": Return.Authorized,
    "reject": Return.Rejected,
    "ship": Return.Shipped,
    "receive": Return.Received,
}


def requested() -> Return:
    return Return.request(
        tenant_id=uuid4(),
        seller_order_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines={PRODUCT: 2},
        reason="too small",
    )


def run(ret: Return, command: str) -> None:
    if command == "authorize":
        ret.authorize("post it")
    elif command == "reject":
        ret.reject("worn")
    elif command == "ship":
        ret.ship("DHL", "R1")
    else:
        ret.receive([ReceivedLine(PRODUCT, 1, "main")], uuid4(), 500)


def test_the_table_is_every_pair_and_agrees_with_the_domains() -> None:
    assert set(EXPECTED) == {(s, c) for s in R for c in COMMANDS}
    for (state, command), to in EXPECTED.items():
        assert TRANSITIONS[command].get(state) == to


@pytest.mark.parametrize(("state", "command"), sorted(EXPECTED, key=str))
def test_return_lifecycle(state: ReturnStatus, command: str) -> None:
    ret = requested()
    for step in PATHS[state]:
        run(ret, step)
    assert ret.status == state
    ret.collect_events()
    expected = EXPECTED[(state, command)]
    if expected is None:
        with pytest.raises(WrongReturnStep):
            run(ret, command)
        assert ret.status == state and ret.collect_events() == []
    else:
        run(ret, command)
        assert ret.status == expected
        assert [type(e) for e in ret.collect_events()] == [EVENT_OF[command]]


def test_what_can_arrive_is_what_was_asked_for() -> None:
    ret = requested()
    ret.authorize("post it")
    for lines in (
        [ReceivedLine(PRODUCT, 3, None)],  # more than asked
        [ReceivedLine(uuid4(), 1, None)],  # not a line of it
        [ReceivedLine(PRODUCT, 1, None), ReceivedLine(PRODUCT, 1, None)],  # twice
        [ReceivedLine(PRODUCT, -1, None)],
    ):
        with pytest.raises(InvalidReturn):
            ret.receive(lines, None, 0)
    with pytest.raises(InvalidReturn):
        requested().authorize("   ")
    with pytest.raises(InvalidReturn):
        Return.request(
            tenant_id=uuid4(),
            seller_order_id=uuid4(),
            order_id=uuid4(),
            buyer_id=uuid4(),
            seller_id=uuid4(),
            currency="USD",
            lines={PRODUCT: 0},
            reason="x",
        )


def test_the_window_runs_from_delivery() -> None:
    delivered = datetime(2026, 12, 1, 12, tzinfo=UTC)
    check_window(delivered, 30, delivered + timedelta(days=30))
    with pytest.raises(OutsideReturnWindow):
        check_window(delivered, 30, delivered + timedelta(days=30, seconds=1))
    with pytest.raises(OutsideReturnWindow):
        check_window(delivered, 0, delivered + timedelta(seconds=1))
    with pytest.raises(WrongReturnStep):
        check_window(None, 30, delivered)


def delivered_order() -> SellerOrder:
    line = {
        "product_id": str(PRODUCT),
        "title": "Shirt",
        "quantity": 3,
        "unit_price_minor": 1_000,
        "line_total_minor": 3_000,
        "commission_bps": 0,
        "commission_minor": 0,
        "hold_id": "h",
    }
    so = SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines=[line],
        subtotal_minor=3_000,
        commission_minor=0,
        seller_net_minor=3_000,
    )
    so.pay()
    so.ship("DHL", "1")
    so.deliver(7)
    return so


def test_a_seller_order_lets_each_unit_be_returned_once() -> None:
    so = delivered_order()
    first, second = uuid4(), uuid4()
    so.claim_return(first, {PRODUCT: 2})
    assert so.returnable(PRODUCT) == 1
    with pytest.raises(NotReturnable):
        so.claim_return(second, {PRODUCT: 2})
    with pytest.raises(LineUnavailable):
        so.claim_return(second, {uuid4(): 1})
    so.end_return(first, {PRODUCT: 1})  # one of the two arrived
    assert so.returnable(PRODUCT) == 2
    assert so.paid_for({PRODUCT: 2}) == (2_000, {}, 0)  # untaxed, no promotion: only goods
    settlement = Settlement.fund(so)
    assert settlement.refund_of(so.paid_for({PRODUCT: 2})[0]) == 2_000
    refund = uuid4()
    settlement.request_refund(refund, 1_500)  # by amount: only what is left comes back
    settlement.refund(refund)
    assert settlement.refund_of(so.paid_for({PRODUCT: 2})[0]) == 1_500
    with pytest.raises(WrongOrderStep):
        so.end_return(first, {})
    undelivered = SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines=so.lines,
        subtotal_minor=3_000,
        commission_minor=0,
        seller_net_minor=3_000,
    )
    undelivered.pay()  # paid, not delivered
    with pytest.raises(WrongOrderStep):
        undelivered.claim_return(uuid4(), {PRODUCT: 1})
