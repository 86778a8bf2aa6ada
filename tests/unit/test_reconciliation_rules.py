"""The matching rules of reconciliation (domain/reconciliation.py), table by table: which provider
object each ledger key and each provider transaction concern, and what matches, what either side
lacks, and why."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.payments import CHARGE, DISPUTE, PAYOUT, REFUND, TRANSFER, ProviderTransaction
from domain.reconciliation import (
    DayNotOver,
    LedgerMovement,
    Reconciliation,
    book_fee,
    check_over,
    day_bounds,
    ledger_items,
    match,
    next_subjects,
    provider_items,
    reference_of_movement,
    subjects_of_key,
)

AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
# Fixed ids: test ids are made of them, and every xdist worker must collect the same tests.
SO1, SO2, ORDER, REFUND_ID, DISPUTE_ID, PAYOUT_ID, UNKNOWN_ID = (
    str(UUID(int=n)) for n in range(1, 8)
)
LINKS = {
    f"seller_order:{SO1}": [f"order:{ORDER}"],
    f"seller_order:{SO2}": [f"order:{ORDER}"],
    f"order:{ORDER}": ["intent:pi_1"],
    "intent:pi_1": [f"order:{ORDER}"],
    f"cancel:{ORDER}": ["refund:re_cancel"],
    f"late:{ORDER}": ["refund:re_late"],
    f"refund:{REFUND_ID}": ["refund:re_1"],
    f"dispute:{DISPUTE_ID}": ["dispute:dp_1"],
    f"payout:{PAYOUT_ID}": ["transfer:tr_1", "transfer:tr_2"],
    "transfer:tr_1": [f"payout:{PAYOUT_ID}"],
    "transfer:tr_2": [f"payout:{PAYOUT_ID}"],
}


@pytest.mark.parametrize(
    ("key", "reference"),
    [
        (f"payment:{SO1}", "charge:pi_1"),
        (f"payment:{SO2}", "charge:pi_1"),
        ("late-payment:pi_1:received", "charge:pi_1"),
        ("late-payment:pi_1:returned", "refund:re_late"),
        (f"refund:{SO1}:cancelled", "refund:re_cancel"),
        # Tax and platform-funded promotions leave clearing with what gives money back.
        (f"payment:{SO1}:tax", "charge:pi_1"),
        (f"refund:{SO1}:cancelled:tax", "refund:re_cancel"),
        (f"refund:{REFUND_ID}:tax", "refund:re_1"),
        (f"refund:{REFUND_ID}:promotion", "refund:re_1"),
        (f"dispute:{DISPUTE_ID}:{SO1}:lost:tax", "dispute:dp_1"),
        (f"dispute:{DISPUTE_ID}:{SO1}:lost:promotion", "dispute:dp_1"),
        (f"refund:{REFUND_ID}", "refund:re_1"),
        (f"refund:{REFUND_ID}:net", "refund:re_1"),
        (f"refund:{REFUND_ID}:commission", "refund:re_1"),
        (f"dispute:{DISPUTE_ID}:{SO1}:lost", "dispute:dp_1"),
        (f"dispute:{DISPUTE_ID}:{SO1}:fee", "dispute:dp_1"),
        (f"dispute:{DISPUTE_ID}:platform", "dispute:dp_1"),
        (f"payout:{PAYOUT_ID}", f"payout:{PAYOUT_ID}"),
        ("processor-fee:txn_9", "fee:txn_9"),
        (f"payment:{UNKNOWN_ID}", None),  # a seller order no link names
        (f"refund:{UNKNOWN_ID}", None),
        ("plan-fee:x:2026-12:0", None),
    ],
)
def test_each_key_names_its_provider_object(key: str, reference: str | None) -> None:
    assert reference_of_movement(key, LINKS) == reference


def test_the_links_a_key_starts_from_and_the_next_step_cover_every_reference() -> None:
    keys = [f"payment:{SO1}", f"refund:{SO1}:cancelled", "late-payment:pi_1:returned"]
    subjects = {s for k in keys for s in subjects_of_key(k)}
    reached = {ref for s in subjects for ref in LINKS.get(s, [])}
    assert {s for ref in reached for s in next_subjects(ref)} >= {
        f"order:{ORDER}",
        f"cancel:{ORDER}",
        f"late:{ORDER}",
    }


def txn(kind: str, amount: int, fee: int = 0, source: str = "", intent: str = "") -> Any:
    return ProviderTransaction(
        id=f"txn_{uuid4().hex[:8]}",
        type=kind,
        amount_minor=amount,
        fee_minor=fee,
        currency="USD",
        source_id=source or f"src_{uuid4().hex[:6]}",
        intent_id=intent,
        created_at=AT,
    )


def moved(key: str, amount: int, kind: str = "payment") -> LedgerMovement:
    return LedgerMovement(str(uuid4()), key, kind, amount, AT)


def reconcile(transactions: list[Any], movements: list[LedgerMovement]) -> Any:
    return match(provider_items(transactions, LINKS), ledger_items(movements, LINKS), "USD")


def test_a_clean_day_matches_everything_to_the_minor_unit() -> None:
    charge = txn(CHARGE, 10_000, fee=320, source="ch_1", intent="pi_1")
    refund = txn(REFUND, -2_000, source="re_1", intent="pi_1")
    transfers = [txn(TRANSFER, -3_000, source="tr_1"), txn(TRANSFER, -1_500, source="tr_2")]
    outcome = reconcile(
        [charge, refund, *transfers],
        [
            moved(f"payment:{SO1}", 6_000),
            moved(f"payment:{SO2}", 4_000),
            moved(f"refund:{REFUND_ID}:net", -1_800, "refund_chargeback"),
            moved(f"refund:{REFUND_ID}:commission", -200, "commission_reversal"),
            moved(f"payout:{PAYOUT_ID}", -4_500, "payout"),
            moved(f"processor-fee:{charge.id}", -320, "processor_fee"),
        ],
    )
    assert (outcome.unmatched_ledger, outcome.unmatched_provider) == ([], [])
    assert {m["reference"]: m["amount"]["amount"] for m in outcome.matched} == {
        "charge:pi_1": 10_000,
        "refund:re_1": -2_000,
        f"payout:{PAYOUT_ID}": -4_500,
        f"fee:{charge.id}": -320,
    }
    paid = next(m for m in outcome.matched if m["reference"] == "charge:pi_1")
    assert (paid["transactions"], len(paid["transfers"])) == ([charge.id], 2)


def test_a_refund_made_at_the_provider_behind_velora_is_the_providers_alone() -> None:
    behind = txn(REFUND, -700, source="re_behind", intent="pi_1")
    outcome = reconcile(
        [txn(CHARGE, 10_000, source="ch_1", intent="pi_1"), behind],
        [moved(f"payment:{SO1}", 10_000)],
    )
    assert outcome.unmatched_ledger == []
    [found] = outcome.unmatched_provider
    assert (found["transaction_id"], found["reference"], found["amount"]) == (
        behind.id,
        "refund:re_behind",
        {"amount": -700, "currency": "USD"},
    )
    assert "never booked" in found["reason"]


def test_a_fee_the_ledger_lacks_is_found() -> None:
    charge = txn(CHARGE, 10_000, fee=320, source="ch_1", intent="pi_1")
    outcome = reconcile([charge], [moved(f"payment:{SO1}", 10_000)])
    [missing] = outcome.unmatched_provider
    assert (missing["reference"], missing["type"], missing["amount"]["amount"]) == (
        f"fee:{charge.id}",
        "fee",
        -320,
    )
    assert missing["reason"] == "a processor fee the ledger lacks"
    assert [m["reference"] for m in outcome.matched] == ["charge:pi_1"]


def test_amounts_that_differ_are_listed_on_both_sides_with_the_reason() -> None:
    outcome = reconcile(
        [txn(CHARGE, 10_000, source="ch_1", intent="pi_1")], [moved(f"payment:{SO1}", 9_999)]
    )
    assert outcome.matched == []
    [p], [ledger] = outcome.unmatched_provider, outcome.unmatched_ledger
    assert (
        p["reason"]
        == ledger["reason"]
        == "amounts differ: the provider moved 10000, the ledger 9999"
    )


def test_what_only_the_ledger_holds_is_listed_and_so_is_what_names_nothing() -> None:
    outcome = reconcile(
        [],
        [moved(f"payment:{SO1}", 10_000), moved(f"payment:{uuid4()}", 500)],
    )
    reasons = sorted(i["reason"] for i in outcome.unmatched_ledger)
    assert reasons == [
        "it moved processor clearing but names no provider object Velora knows of",
        "the provider reports no transaction of it on this day",
    ]


def test_a_lost_dispute_matches_its_withdrawal_with_the_fee() -> None:
    withdrawal = txn(DISPUTE, -5_000, fee=1_500, source="dp_1", intent="pi_1")
    outcome = reconcile(
        [withdrawal],
        [
            moved(f"dispute:{DISPUTE_ID}:{SO1}:lost", -5_000, "dispute_loss"),
            moved(f"dispute:{DISPUTE_ID}:{SO1}:fee", -1_500, "dispute_fee"),
        ],
    )
    assert [(m["reference"], m["amount"]["amount"]) for m in outcome.matched] == [
        ("dispute:dp_1", -6_500)
    ]
    assert outcome.unmatched_provider == []  # a dispute's fee is no processor fee


def test_a_transfer_no_payout_made_and_a_bank_payout_are_the_providers_alone() -> None:
    outcome = reconcile(
        [txn(TRANSFER, -100, source="tr_stranger"), txn(PAYOUT, -9_000, source="po_1")], []
    )
    assert sorted(i["reference"] for i in outcome.unmatched_provider) == [
        "payout:po_1",
        "transfer:tr_stranger",
    ]


class Recorded:
    """Books that keep what they were asked to move."""

    def __init__(self) -> None:
        self.moves: list[tuple[str, str, str, int, str]] = []

    def transfer(
        self, key: str, debit: str, credit: str, amount: int, *, kind: str, pending: bool = False
    ) -> None:
        self.moves.append((key, debit, credit, amount, kind))


def test_a_fee_is_booked_to_processor_fees_and_a_fee_given_back_the_other_way() -> None:
    books = Recorded()
    kept, returned = txn(CHARGE, 10_000, fee=320), txn(REFUND, -10_000, fee=-30)
    book_fee(books, kept)  # type: ignore[arg-type]
    book_fee(books, returned)  # type: ignore[arg-type]
    assert books.moves == [
        (f"processor-fee:{kept.id}", "processor:fees", "processor:clearing", 320, "processor_fee"),
        (
            f"processor-fee:{returned.id}",
            "processor:clearing",
            "processor:fees",
            30,
            "processor_fee_returned",
        ),
    ]


def test_a_day_is_reconciled_once_it_is_over_under_one_id() -> None:
    day = date(2026, 12, 6)
    start, end = day_bounds(day)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-06T00:00:00+00:00",
        "2026-12-07T00:00:00+00:00",
    )
    with pytest.raises(DayNotOver):
        check_over(day, end.replace(microsecond=0) - (end - start) / 86_400)
    check_over(day, end)
    tenant = uuid4()
    assert Reconciliation.create_id(tenant, "USD", day) == Reconciliation.create_id(
        tenant, "USD", day
    )
    assert Reconciliation.create_id(tenant, "USD", day) != Reconciliation.create_id(
        tenant, "EUR", day
    )
