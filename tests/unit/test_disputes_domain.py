"""Disputes in the domain: how an amount is shared out, what a settlement under dispute
refuses, what it reserves and where, and what closing it won or lost does to it; the dispute
itself, closed once, its fee borne as the tenant's policy says; and what the charge cannot
explain (another currency, an order never paid, more than was charged, a fee larger than the
charge), which is never booked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.disputes import (
    ChargeDisputes,
    Dispute,
    DisputeClosedAlready,
    DisputeReport,
    FeePayer,
    InvalidDispute,
    refusal,
    share_out,
    split_pro_rata,
)
from domain.orders import Order
from domain.seller_orders import SellerOrder
from domain.settlement import (
    EscrowStatus,
    RefundTooLarge,
    Settlement,
    UnderDispute,
    WrongSettlementStep,
)


@given(
    amount=st.integers(0, 10**9),
    weights=st.lists(st.integers(0, 10**7), min_size=1, max_size=6),
)
def test_shares_add_up_to_the_amount_and_none_exceeds_its_weight(
    amount: int, weights: list[int]
) -> None:
    shares = share_out(amount, list(enumerate(weights)))
    assert sum(shares.values()) == min(amount, sum(weights))
    for key, weight in enumerate(weights):
        assert 0 <= shares[key] <= weight
    split = split_pro_rata(amount, list(enumerate(weights)))
    assert sum(split.values()) == (amount if sum(weights) else 0)
    assert all(share >= 0 for share in split.values())


def test_shares_are_pro_rata_rounded_half_to_even_on_the_running_total() -> None:
    assert share_out(100, [("a", 100), ("b", 100)]) == {"a": 50, "b": 50}
    assert share_out(5, [("a", 10), ("b", 10)]) == {"a": 2, "b": 3}  # 2.5 -> 2, then 5 - 2
    assert share_out(100, [("a", 1), ("b", 1)]) == {"a": 1, "b": 1}  # no more than they hold
    assert share_out(7, [("a", 3), ("b", 0), ("c", 4)]) == {"a": 3, "b": 0, "c": 4}
    assert share_out(10, [("a", 0)]) == {"a": 0}


def placed(subtotal: int = 1_000, commission: int = 100) -> SellerOrder:
    return SellerOrder(
        tenant_id=uuid4(),
        order_id=uuid4(),
        buyer_id=uuid4(),
        seller_id=uuid4(),
        currency="USD",
        lines=[],
        subtotal_minor=subtotal,
        commission_minor=commission,
        seller_net_minor=subtotal - commission,
    )


def paid(subtotal: int = 1_000, commission: int = 100) -> Settlement:
    so = placed(subtotal, commission)
    so.pay()
    return Settlement.fund(so)


def release(settlement: Settlement) -> None:
    settlement.release(delivered=True, due_at=datetime.now(UTC), now=datetime.now(UTC))


def released() -> Settlement:
    settlement = paid()
    release(settlement)
    return settlement


# What a settlement under an open dispute refuses: nothing that moves its money.
REFUSED: dict[str, Callable[[Settlement], object]] = {
    "request a refund": lambda s: s.request_refund(uuid4(), 10),
    "cancel": lambda s: s.cancel(),
    "release the escrow": release,
    "open a second dispute": lambda s: s.open_dispute(uuid4(), 10, 0),
}


@pytest.mark.parametrize("command", sorted(REFUSED))
def test_a_seller_order_under_dispute_refuses_what_would_move_its_money(command: str) -> None:
    settlement = paid()
    settlement.open_dispute(uuid4(), 400, 0)
    settlement.collect_events()
    with pytest.raises(UnderDispute):
        REFUSED[command](settlement)
    assert settlement.collect_events() == []


def test_the_release_waits_for_the_dispute_and_follows_a_won_one() -> None:
    settlement = paid()
    dispute = uuid4()
    share = settlement.open_dispute(dispute, 400, 0)
    assert (share.in_escrow, share.commission_minor, share.net_minor) == (True, 40, 360)
    with pytest.raises(UnderDispute):
        release(settlement)
    settlement.close_dispute(dispute, won=True, fee_minor=0)
    assert (settlement.dispute_status, settlement.refunded_minor) == ("won", 0)
    release(settlement)
    assert (settlement.escrow, settlement.released_net_minor) == (EscrowStatus.RELEASED, 900)


def test_a_dispute_lost_in_escrow_takes_its_share_as_a_refund_from_escrow_would() -> None:
    settlement = paid()
    dispute = uuid4()
    settlement.open_dispute(dispute, 250, 0)
    share, generation_before = settlement.close_dispute(dispute, won=False, fee_minor=15)
    assert (share.amount_minor, generation_before) == (250, 0)
    assert settlement.dispute_status == "lost"
    assert settlement.escrow == EscrowStatus.PARTIALLY_REFUNDED
    assert (settlement.escrow_generation, settlement.refunded_minor) == (1, 250)
    assert (settlement.escrow_commission_minor, settlement.escrow_net_minor) == (75, 675)
    assert not settlement.refunded_in_full
    assert settlement.refundable_minor == 750
    # a second dispute, on what is left, takes the rest
    second = uuid4()
    settlement.open_dispute(second, 750, 0)
    settlement.close_dispute(second, won=False, fee_minor=0)
    assert settlement.refunded_in_full and settlement.escrow == EscrowStatus.REFUNDED


def test_a_released_order_reserves_its_net_from_the_payable_as_far_as_it_goes() -> None:
    settlement = released()
    share = settlement.open_dispute(uuid4(), 1_000, 300)
    assert (share.in_escrow, share.net_minor, share.commission_minor) == (False, 900, 100)
    assert (share.from_payable_minor, share.from_receivable_minor) == (300, 600)
    assert released().open_dispute(uuid4(), 500, 10_000).from_payable_minor == 450
    assert released().open_dispute(uuid4(), 500, -5).from_payable_minor == 0


def test_what_cannot_be_disputed() -> None:
    cancelled = paid()
    cancelled.cancel()
    assert cancelled.disputable_minor == 0
    settlement = paid()
    with pytest.raises(RefundTooLarge):
        settlement.open_dispute(uuid4(), 1_001, 0)
    with pytest.raises(WrongSettlementStep):
        settlement.close_dispute(uuid4(), won=True, fee_minor=0)  # none open
    dispute = uuid4()
    settlement.open_dispute(dispute, 10, 0)
    assert settlement.disputable_minor == 0
    with pytest.raises(WrongSettlementStep):
        settlement.close_dispute(uuid4(), won=True, fee_minor=0)  # another one's id


def opened(shares: dict[UUID, int], amount: int = 1_000) -> Dispute:
    return Dispute.open(
        tenant_id=uuid4(),
        provider="stripe",
        provider_dispute_id="dp_1",
        order_id=uuid4(),
        currency="USD",
        amount_minor=amount,
        reason="fraudulent",
        shares=shares,
    )


def test_a_lost_disputes_fee_is_the_sellers_pro_rata_or_the_platforms() -> None:
    a, b = uuid4(), uuid4()
    by_sellers = opened({a: 600, b: 300})
    assert by_sellers.close(won=False, fee_minor=1_500, fee_payer=FeePayer.SELLER) == {
        a: 1_000,
        b: 500,
    }
    assert by_sellers.platform_loss_minor == 100  # the part no seller order held
    by_platform = opened({a: 600, b: 300})
    assert by_platform.close(won=False, fee_minor=1_500, fee_payer=FeePayer.PLATFORM) == {}
    assert by_platform.platform_loss_minor == 1_600
    nobody_held = opened({})
    assert nobody_held.close(won=False, fee_minor=1_500, fee_payer=FeePayer.SELLER) == {}
    assert nobody_held.platform_loss_minor == 2_500
    won = opened({a: 1_000})
    assert won.close(won=True, fee_minor=1_500, fee_payer=FeePayer.SELLER) == {}
    assert won.platform_loss_minor == 0


def test_a_dispute_closes_once_and_needs_a_real_amount() -> None:
    dispute = opened({uuid4(): 1_000})
    dispute.close(won=True, fee_minor=0, fee_payer=FeePayer.SELLER)
    with pytest.raises(DisputeClosedAlready):
        dispute.close(won=False, fee_minor=0, fee_payer=FeePayer.SELLER)
    with pytest.raises(InvalidDispute):
        opened({}, amount=0)
    with pytest.raises(InvalidDispute):
        opened({}).close(won=False, fee_minor=-1, fee_payer=FeePayer.SELLER)


def order(total: int = 1_000) -> Order:
    placed = Order(
        tenant_id=uuid4(),
        idempotency_key="k",
        buyer_id=uuid4(),
        cart_id=uuid4(),
        currency="USD",
        total_minor=total,
        seller_order_ids=[],
        shipping_address={},
        expires_at=datetime.now(UTC),
    )
    placed.attach_payment_intent("stripe", "pi_1", "secret", total)
    return placed


def paid_order(total: int = 1_000) -> Order:
    bought = order(total)
    bought.pay("ch_1")
    return bought


def cancelled_after_payment() -> Order:
    bought = paid_order()
    bought.cancel("cancelled")
    return bought


def cancelled_unpaid() -> Order:
    placed = order()
    placed.cancel("expired")
    return placed


def paid_late() -> Order:
    placed = cancelled_unpaid()
    placed.record_payment_returned("re_1", 1_000, "USD", "paid late", late=True)
    return placed


def report(amount: int, currency: str = "usd") -> DisputeReport:
    return DisputeReport("stripe", "dp_1", amount, currency, "fraudulent")


# One row per (order, what was disputed before, the report, opening?, fee) -> why it is refused
# (a part of the reason), or None when it may be booked. The charge is 1,000.
REFUSALS = [
    (order, 0, report(1), True, 0, "never paid"),
    (cancelled_unpaid, 0, report(1), True, 0, "never paid"),
    (paid_order, 0, report(1_000, "eur"), True, 0, "a dispute in EUR of an order in USD"),
    (paid_order, 0, report(1_000, "eur"), False, 0, "a dispute in EUR of an order in USD"),
    (paid_order, 0, report(10**12), True, 0, "would exceed the charge of 1000"),
    (paid_order, 600, report(401), True, 0, "disputes of 1001 USD would exceed"),
    (paid_order, 0, report(1_000), True, 1_001, "a dispute fee of 1001 USD exceeds"),
    (paid_order, 1_000, report(1_000), False, 2**63, "exceeds the charge"),
    (paid_order, 0, report(1_000), True, 1_000, None),
    (paid_order, 600, report(400), True, 0, None),
    (paid_order, 1_000, report(1_000), False, 1_000, None),  # closing a recorded dispute
    (cancelled_after_payment, 0, report(1_000), True, 15, None),
    (paid_late, 0, report(1_000), True, 15, None),
]


@pytest.mark.parametrize(("made", "before", "told", "opening", "fee", "why"), REFUSALS)
def test_what_the_charge_cannot_explain_is_refused(
    made: Callable[[], Order],
    before: int,
    told: DisputeReport,
    opening: bool,
    fee: int,
    why: str | None,
) -> None:
    disputed = made()
    charge = ChargeDisputes(tenant_id=disputed.tenant_id, order_id=disputed.id)
    if before:
        charge.claim(uuid4(), before, disputed.charged_minor)
    refused = refusal(disputed, charge, told, opening=opening, fee_minor=fee)
    if why is None:
        assert refused is None
    else:
        assert refused is not None and why in refused


def test_what_an_order_was_charged() -> None:
    assert order().charged_minor == 0
    assert cancelled_unpaid().charged_minor == 0
    assert paid_order(1_234).charged_minor == 1_234
    assert cancelled_after_payment().charged_minor == 1_000  # paid back, but charged
    assert paid_late().charged_minor == 1_000


@given(claims=st.lists(st.integers(-5, 2_000), max_size=8))
def test_the_disputes_of_a_charge_never_claim_more_than_it(claims: list[int]) -> None:
    charge = ChargeDisputes(tenant_id=uuid4(), order_id=uuid4())
    expected = 0
    for amount in claims:
        dispute = uuid4()
        if 0 < amount <= 1_000 - expected:
            charge.claim(dispute, amount, 1_000)
            charge.claim(dispute, amount, 1_000)  # the same dispute counts once
            expected += amount
        else:
            with pytest.raises(InvalidDispute):
                charge.claim(dispute, amount, 1_000)
        assert charge.claimed_minor == expected <= 1_000
