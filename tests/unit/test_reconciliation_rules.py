"""The matching rules of reconciliation (domain/reconciliation.py, domain/matching.py), table by
table: which provider object each ledger key and each provider transaction concern, and what
matches, what either side lacks, and why; and across the midnight between two days, that an item
is matched once, on one day's run, whichever days are run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.matching import match
from domain.payments import CHARGE, DISPUTE, PAYOUT, REFUND, TRANSFER, ProviderTransaction
from domain.reconciliation import (
    DayNotOver,
    LedgerMovement,
    Reconciliation,
    book_fee,
    check_over,
    day_bounds,
    disputes_on,
    ledger_items,
    next_subjects,
    provider_items,
    read_bounds,
    reconciled_from,
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


def txn(
    kind: str,
    amount: int,
    fee: int = 0,
    source: str = "",
    intent: str = "",
    at: datetime = AT,
) -> Any:
    return ProviderTransaction(
        id=f"txn_{uuid4().hex[:8]}",
        type=kind,
        amount_minor=amount,
        fee_minor=fee,
        currency="USD",
        source_id=source or f"src_{uuid4().hex[:6]}",
        intent_id=intent,
        created_at=at,
    )


def moved(key: str, amount: int, kind: str = "payment", at: datetime = AT) -> LedgerMovement:
    return LedgerMovement(str(uuid4()), key, kind, amount, at)


def reconcile(
    transactions: list[Any], movements: list[LedgerMovement], day: date = AT.date()
) -> Any:
    """The run of `day`, given what it reads of both sides (`read_bounds`)."""
    start, end = read_bounds(day)
    mine = [t for t in transactions if start <= t.created_at < end]
    provider = provider_items(mine, LINKS)
    ledger = ledger_items([m for m in movements if start <= m.at < end], LINKS, mine)
    return match(day, provider, ledger, "USD")


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
        "the provider reports no transaction of it on this day or the days either side",
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


def life(day: date, transactions: list[Any], movements: list[LedgerMovement]) -> Any:
    """A day's run given a dispute's every item, whenever made, as the service reads them."""
    provider = provider_items(transactions, LINKS)
    return match(day, provider, ledger_items(movements, LINKS, transactions), "USD")


OPENED = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
CLOSED = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # weeks later


def withdrawn(at: datetime = OPENED) -> Any:
    return txn(DISPUTE, -5_000, fee=1_500, source="dp_1", intent="pi_1", at=at)


def lost_legs(at: datetime = CLOSED) -> list[LedgerMovement]:
    return [
        moved(f"dispute:{DISPUTE_ID}:{SO1}:lost", -5_000, "dispute_loss", at=at),
        moved(f"dispute:{DISPUTE_ID}:{SO1}:fee", -1_500, "dispute_fee", at=at),
    ]


def test_a_dispute_lost_weeks_after_it_opened_matches_on_the_day_it_was_lost() -> None:
    """Stripe withdraws the amount and the fee when the dispute opens; the ledger books them
    when it is lost, weeks later. The opening day's run lists the withdrawal as a dispute still
    open; the closing day's matches the whole dispute; the opening day run again leaves it out."""
    withdrawal, legs = withdrawn(), lost_legs()
    opening = life(OPENED.date(), [withdrawal], [])  # run before the dispute was lost
    [still_open] = opening.unmatched_provider
    assert (still_open["transaction_id"], still_open["amount"]["amount"]) == (
        withdrawal.id,
        -6_500,
    )
    assert still_open["reason"].startswith("a dispute's withdrawal the ledger has not booked")
    closing = life(CLOSED.date(), [withdrawal], legs)
    assert (closing.unmatched_provider, closing.unmatched_ledger) == ([], [])
    [settled] = closing.matched
    assert (settled["reference"], settled["amount"]["amount"], settled["days"]) == (
        "dispute:dp_1",
        -6_500,
        ["2026-11-10", "2026-12-06"],
    )
    assert settled["transactions"] == [withdrawal.id]
    assert listed(life(OPENED.date(), [withdrawal], legs)) == set()


def test_a_dispute_won_weeks_later_settles_with_nothing_in_the_ledger() -> None:
    withdrawal = withdrawn()
    given_back = txn(DISPUTE, 5_000, fee=-1_500, source="dp_1", intent="pi_1", at=CLOSED)
    closing = life(CLOSED.date(), [withdrawal, given_back], [])
    [settled] = closing.matched
    assert (settled["amount"]["amount"], settled["transfers"]) == (0, [])
    assert sorted(settled["transactions"]) == sorted([withdrawal.id, given_back.id])
    assert listed(life(OPENED.date(), [withdrawal, given_back], [])) == set()
    # The same day: withdrawn and given back, matched as well.
    again = withdrawn(CLOSED - timedelta(hours=1))
    assert [
        m["amount"]["amount"] for m in life(CLOSED.date(), [again, given_back], []).matched
    ] == [0]


def test_a_won_dispute_whose_fee_the_provider_kept_is_a_difference() -> None:
    """The ledger books no fee for a won dispute: a provider that keeps it leaves a difference
    the day the dispute is won."""
    withdrawal = withdrawn()
    given_back = txn(DISPUTE, 5_000, fee=0, source="dp_1", intent="pi_1", at=CLOSED)
    closing = life(CLOSED.date(), [withdrawal, given_back], [])
    assert closing.matched == []
    [kept] = closing.unmatched_provider
    assert kept["transaction_id"] == given_back.id  # the earlier day's listed it then
    assert kept["reason"] == (
        "amounts differ over the dispute's life: the provider moved -1500, the ledger 0"
    )


def test_a_lost_dispute_the_provider_never_withdrew_is_the_ledgers_alone() -> None:
    outcome = life(CLOSED.date(), [], lost_legs())
    assert {i["reason"] for i in outcome.unmatched_ledger} == {
        "the provider reports no transaction of this dispute"
    }
    assert len(outcome.unmatched_ledger) == 2


def test_the_disputes_of_a_day_are_found_on_either_side() -> None:
    legs = lost_legs()
    other = txn(DISPUTE, -100, fee=1_500, source="dp_2", intent="pi_1", at=CLOSED)
    assert disputes_on(CLOSED.date(), [withdrawn(), other], legs, LINKS) == {"dp_1", "dp_2"}
    assert disputes_on(OPENED.date(), [withdrawn(), other], legs, LINKS) == {"dp_1"}
    assert disputes_on(CLOSED.date(), [], lost_legs(), {}) == set()  # no link: names nothing


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


def test_a_day_is_reconciled_once_the_day_after_it_is_over_under_one_id() -> None:
    day = date(2026, 12, 6)
    start, end = day_bounds(day)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-06T00:00:00+00:00",
        "2026-12-07T00:00:00+00:00",
    )
    # The next day's movements may be its counterparts: it waits for them.
    assert reconciled_from(day).isoformat() == "2026-12-08T00:00:00+00:00"
    for early in (end, reconciled_from(day) - timedelta(seconds=1)):
        with pytest.raises(DayNotOver):
            check_over(day, early)
    check_over(day, reconciled_from(day))
    # It reads the day after, and the two before, whose pair decides about the day before.
    assert [b.isoformat() for b in read_bounds(day)] == [
        "2026-12-04T00:00:00+00:00",
        "2026-12-08T00:00:00+00:00",
    ]
    tenant = uuid4()
    assert Reconciliation.create_id(tenant, "USD", day) == Reconciliation.create_id(
        tenant, "USD", day
    )
    assert Reconciliation.create_id(tenant, "USD", day) != Reconciliation.create_id(
        tenant, "EUR", day
    )


def test_a_day_run_again_replaces_its_result_and_keeps_every_runs_fees() -> None:
    tenant, day = uuid4(), date(2026, 12, 6)
    kept = txn(CHARGE, 10_000, fee=320, source="ch_1", intent="pi_1")
    first = reconcile([kept], [moved(f"payment:{SO1}", 10_000)])
    made = Reconciliation.complete(tenant, "USD", day, first, [kept], [kept])
    assert (made.run, made.processor_fees_minor, len(made.unmatched_provider)) == (1, 320, 1)
    later = txn(REFUND, -500, fee=-10, source="re_late", intent="pi_1")
    second = reconcile([kept, later], [moved(f"payment:{SO1}", 10_000)])
    made.collect_events()
    made.redo(second, [kept, later], [later])
    [redone] = made.collect_events()
    assert isinstance(redone, Reconciliation.Redone)
    assert (redone.run, redone.processor_fees_minor) == (2, 310)
    assert redone.unmatched_provider == second.unmatched_provider
    assert [f["transaction_id"] for f in redone.fees_booked] == [kept.id, later.id]
    assert (made.run, made.matched, made.fees_booked) == (2, second.matched, redone.fees_booked)
    assert made.id == Reconciliation.create_id(tenant, "USD", day)  # the same day, the same one


# -- Across midnight: a day either side, each item once -----------------------------------------

DAY = date(2026, 12, 6)
MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)  # between DAY and the day after


def listed(outcome: Any) -> set[str]:
    """The ids of every item a run lists, matched or not."""
    matched = {i for m in outcome.matched for i in m["transactions"] + m["transfers"]}
    return (
        matched
        | {i["transaction_id"] for i in outcome.unmatched_provider}
        | {i["transfer_id"] for i in outcome.unmatched_ledger}
    )


def test_a_charge_before_midnight_matches_its_posting_after_it_once() -> None:
    """The provider dates the charge 23:59:59, the webhook's posting lands at 00:00:01: the
    day's run matches them, and the next day's run does not list the posting as missing."""
    charge = txn(CHARGE, 10_000, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(seconds=1))
    posted = [
        moved(f"payment:{SO1}", 6_000, at=MIDNIGHT + timedelta(seconds=1)),
        moved(f"payment:{SO2}", 4_000, at=MIDNIGHT + timedelta(seconds=1)),
    ]
    day = reconcile([charge], posted, DAY)
    assert (day.unmatched_provider, day.unmatched_ledger) == ([], [])
    [paid] = day.matched
    assert (paid["reference"], paid["amount"]["amount"], paid["days"]) == (
        "charge:pi_1",
        10_000,
        ["2026-12-06", "2026-12-07"],
    )
    assert sorted(paid["transfers"]) == sorted(m.transfer_id for m in posted)
    after = reconcile([charge], posted, DAY + timedelta(days=1))
    assert listed(after) == set()  # matched on the day before's run: not missing again


def test_a_posting_before_midnight_matches_the_providers_refund_after_it() -> None:
    refund = txn(REFUND, -2_000, source="re_1", intent="pi_1", at=MIDNIGHT + timedelta(seconds=2))
    posted = moved(f"refund:{REFUND_ID}", -2_000, "refund", at=MIDNIGHT - timedelta(seconds=1))
    day = reconcile([refund], [posted], DAY)
    assert [(m["reference"], m["transactions"], m["transfers"]) for m in day.matched] == [
        ("refund:re_1", [refund.id], [posted.transfer_id])
    ]
    assert listed(reconcile([refund], [posted], DAY + timedelta(days=1))) == set()


def test_a_group_split_over_midnight_settles_only_with_both_days() -> None:
    """One seller order's posting before midnight and the other's after it: neither day
    settles the charge alone, the two together do."""
    charge = txn(CHARGE, 10_000, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(minutes=1))
    posted = [
        moved(f"payment:{SO1}", 6_000, at=MIDNIGHT - timedelta(seconds=1)),
        moved(f"payment:{SO2}", 4_000, at=MIDNIGHT + timedelta(seconds=1)),
    ]
    day = reconcile([charge], posted, DAY)
    assert [m["amount"]["amount"] for m in day.matched] == [10_000]
    assert listed(reconcile([charge], posted, DAY + timedelta(days=1))) == set()


def test_what_settles_on_its_own_day_is_not_taken_by_a_neighbour() -> None:
    """The day's charge and posting settle on the day; the next day's posting of the same
    charge (booked twice, say) is the next day's difference, not a partner of the day's."""
    charge = txn(CHARGE, 10_000, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(hours=1))
    posted = moved(f"payment:{SO1}", 10_000, at=MIDNIGHT - timedelta(minutes=30))
    twice = moved(f"payment:{SO2}", 10_000, at=MIDNIGHT + timedelta(minutes=30))
    day = reconcile([charge], [posted, twice], DAY)
    assert [m["transfers"] for m in day.matched] == [[posted.transfer_id]]
    assert listed(day) == {charge.id, posted.transfer_id}
    after = reconcile([charge], [posted, twice], DAY + timedelta(days=1))
    [missing] = after.unmatched_ledger
    assert missing["transfer_id"] == twice.transfer_id
    assert missing["reason"] == (
        "the provider reports no transaction of it on this day or the days either side"
    )


def test_movements_two_days_apart_do_not_match_and_each_day_lists_its_own() -> None:
    at = MIDNIGHT - timedelta(days=1, seconds=1)  # the day before, a second before its end
    charge = txn(CHARGE, 10_000, source="ch_1", intent="pi_1", at=at)
    posted = moved(f"payment:{SO1}", 10_000, at=MIDNIGHT + timedelta(hours=1))
    before = reconcile([charge], [posted], DAY - timedelta(days=1))
    assert [i["transaction_id"] for i in before.unmatched_provider] == [charge.id]
    assert before.unmatched_provider[0]["reason"].startswith("a charge the ledger never booked")
    assert listed(reconcile([charge], [posted], DAY)) == set()
    after = reconcile([charge], [posted], DAY + timedelta(days=1))
    assert [i["transfer_id"] for i in after.unmatched_ledger] == [posted.transfer_id]


def test_an_item_two_pairs_could_take_is_taken_by_the_earlier_once() -> None:
    """The provider reports one charge on the day before and again the day after, and the
    ledger posted it on the day between: the earlier pair matches, on the day before's run; the
    day after's charge is listed missing there, and nothing is listed twice."""
    first = txn(
        CHARGE, 10_000, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(days=1, seconds=1)
    )
    posted = moved(f"payment:{SO1}", 10_000, at=MIDNIGHT - timedelta(hours=12))
    again = txn(CHARGE, 10_000, source="ch_2", intent="pi_1", at=MIDNIGHT + timedelta(seconds=1))
    runs = {d: reconcile([first, again], [posted], DAY + timedelta(days=d)) for d in (-1, 0, 1)}
    assert [m["transactions"] for m in runs[-1].matched] == [[first.id]]
    assert listed(runs[0]) == set()
    assert [i["transaction_id"] for i in runs[1].unmatched_provider] == [again.id]
    assert runs[1].unmatched_provider[0]["reason"].startswith("a charge the ledger never booked")


def test_amounts_that_differ_across_midnight_are_a_difference_on_both_days() -> None:
    charge = txn(CHARGE, 10_000, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(seconds=1))
    posted = moved(f"payment:{SO1}", 9_999, at=MIDNIGHT + timedelta(seconds=1))
    why = (
        "amounts differ: the provider moved 10000, the ledger 9999"
        " (this day and the days either side)"
    )
    day = reconcile([charge], [posted], DAY)
    assert ([i["reason"] for i in day.unmatched_provider], day.unmatched_ledger) == ([why], [])
    after = reconcile([charge], [posted], DAY + timedelta(days=1))
    assert [i["reason"] for i in after.unmatched_ledger] == [why]


def test_a_fee_booked_days_later_belongs_to_the_day_of_its_transaction() -> None:
    charge = txn(
        CHARGE, 10_000, fee=320, source="ch_1", intent="pi_1", at=MIDNIGHT - timedelta(hours=2)
    )
    posted = moved(f"payment:{SO1}", 10_000, at=MIDNIGHT - timedelta(hours=1))
    # Reconciliation booked the fee when it ran, two days on; it is read by its key.
    fee = moved(
        f"processor-fee:{charge.id}", -320, "processor_fee", at=MIDNIGHT + timedelta(days=2)
    )
    provider = provider_items([charge], LINKS)
    outcome = match(DAY, provider, ledger_items([posted, fee], LINKS, [charge]), "USD")
    assert {m["reference"]: m["days"] for m in outcome.matched} == {
        "charge:pi_1": ["2026-12-06"],
        f"fee:{charge.id}": ["2026-12-06"],
    }


def test_a_movement_naming_nothing_is_listed_on_its_own_day_only() -> None:
    stray = moved(f"payment:{UNKNOWN_ID}", 500, at=MIDNIGHT + timedelta(seconds=1))
    assert reconcile([], [stray], DAY).unmatched_ledger == []
    [listed_once] = reconcile([], [stray], DAY + timedelta(days=1)).unmatched_ledger
    assert listed_once["transfer_id"] == stray.transfer_id


SPREAD = st.lists(
    st.tuples(
        st.sampled_from([f"payment:{SO1}", f"refund:{REFUND_ID}", CHARGE, REFUND]),
        st.integers(0, 3),  # the midnight it lands near, of four
        st.sampled_from([-2, 0, 2]),  # seconds either side of it
        st.sampled_from([100, 200]),
    ),
    max_size=10,
)


@settings(max_examples=400)
@given(SPREAD)
def test_every_item_is_listed_exactly_once_over_the_days_runs(spread: list[Any]) -> None:
    """Whatever lands on which of five days, each run deciding alone from what it reads: every
    item is matched on one run or listed missing on its own day's, and never twice; every
    match balances to the minor unit and spans a day, or two neighbouring ones."""
    first = date(2026, 12, 2)
    transactions, movements = [], []
    for what, offset, seconds, amount in spread:
        at = datetime.combine(first, datetime.min.time(), UTC) + timedelta(
            days=offset + 1, seconds=seconds
        )
        if what in (CHARGE, REFUND):
            source = "re_1" if what == REFUND else "ch_1"
            transactions.append(txn(what, amount, source=source, intent="pi_1", at=at))
        else:
            movements.append(moved(what, amount, at=at))
    amounts = {t.id: t.amount_minor for t in transactions}
    amounts |= {m.transfer_id: m.amount_minor for m in movements}
    seen: list[str] = []
    for d in range(-1, 7):
        outcome = reconcile(transactions, movements, first + timedelta(days=d))
        for m in outcome.matched:
            seen += m["transactions"] + m["transfers"]
            assert m["transactions"] and m["transfers"]
            assert (
                sum(amounts[i] for i in m["transactions"])
                == sum(amounts[i] for i in m["transfers"])
                == m["amount"]["amount"]
            )
            assert len(m["days"]) in (1, 2)
            assert (
                len(m["days"]) == 1
                or (date.fromisoformat(m["days"][1]) - date.fromisoformat(m["days"][0])).days == 1
            )
        seen += [i["transaction_id"] for i in outcome.unmatched_provider]
        seen += [i["transfer_id"] for i in outcome.unmatched_ledger]
    everything = [t.id for t in transactions] + [m.transfer_id for m in movements]
    assert sorted(seen) == sorted(everything)
