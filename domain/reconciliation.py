"""Reconciliation with the payment provider (docs/ledger.md, Reconciliation).

`processor:clearing` is the ledger's mirror of the provider's balance: every amount the provider
takes in or pays out is a movement of it (a payment debits it, a refund, a lost dispute or a
payout credits it). So each UTC day, every balance transaction the provider reports is matched to
the clearing movements it caused, and what either side has that the other lacks is listed.

Both sides are grouped by the provider object they concern, written `kind:id`:

- `charge:<payment intent>`: the intent's charge; `payment:<seller order>` of each of its
  order's seller orders, or `late-payment:<intent>:received`.
- `refund:<provider refund>`: the refund; `refund:<refund>` (with `:net` and `:commission`
  after release), `refund:<seller order>:cancelled`, or `late-payment:<intent>:returned`.
- `dispute:<provider dispute>`: its withdrawals and reinstatements, their fees included; the
  `dispute:<dispute>:...` legs out of clearing, the fee's too. Matched over the dispute's life,
  weeks long: all its items, whenever made (`disputes_on`).
- `payout:<payout>`: the transfers to the seller's connected account; `payout:<payout>`.
- `fee:<balance transaction>`: the fee the provider kept of a charge or refund;
  `processor-fee:<balance transaction>`.

A group matches when both sides hold it and move the same amount to the minor unit, on the day
or across a neighbouring one (domain/matching.py), so a day is reconciled once the day after it
is over too; otherwise each side's items are listed with the reason. Velora's keys name its own
ids, the provider's its own: `Links` (subject -> references, kept by a projector from the events
that learnt the provider's ids) joins the two.

A processor fee is the provider's fact: Velora learns it from the statement, so reconciliation
books it (debit `processor:fees`, credit `processor:clearing`) under a key derived from the
balance transaction's id, so it is booked once however often the day is reconciled. What a
reconciliation had to book is what the ledger lacked, and it says so (`fees_booked`). A dispute's
fee is not booked here: the lost dispute books it with its amount (domain/escrow.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import DomainError, Invalid
from domain.ledger import Books, Chart
from domain.matching import ONE_DAY, Item, Outcome
from domain.payments import CHARGE, DISPUTE, TRANSFER, ProviderTransaction

FEE_KIND = "processor_fee"
FEE_RETURNED_KIND = "processor_fee_returned"

# Subject -> the references it leads to, one step: `seller_order:<id>` -> `order:<id>`;
# `order:<id>` -> `intent:<id>` and back; `cancel:<order>` / `late:<order>` -> `refund:<provider
# refund>`; `refund:<refund>` -> `refund:<provider refund>`; `payout:<id>` -> `transfer:<id>` and
# back; `dispute:<dispute>` -> `dispute:<provider dispute>`.
Links = Mapping[str, Sequence[str]]


class ReconciliationError(DomainError):
    """Base of the reconciliation context's errors."""


class DayNotOver(ReconciliationError, Invalid):
    title = "Day not over"


@dataclass(frozen=True)
class LedgerMovement:
    """One posted movement of processor clearing."""

    transfer_id: str
    key: str
    kind: str
    amount_minor: int  # + into clearing (debited), - out of it (credited)
    at: datetime


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + ONE_DAY


def day_of(at: datetime) -> date:
    """The UTC day a moment belongs to."""
    return at.astimezone(UTC).date()


def reconciled_from(day: date) -> datetime:
    """When `day` can be reconciled: once the day after it is over too, so that what either
    side dated the next day is there to match (domain/matching.py)."""
    return day_bounds(day + ONE_DAY)[1]


def read_bounds(day: date) -> tuple[datetime, datetime]:
    """What a day's run reads of either side, [start, end): the day, the day after, and the two
    days before it, whose pairs decide whether the day before took some of the day's items."""
    start, end = day_bounds(day)
    return start - 2 * ONE_DAY, end + ONE_DAY


def check_over(day: date, now: datetime) -> None:
    if reconciled_from(day) > now:
        raise DayNotOver(
            f"{day} is reconciled once the day after it is over too (UTC): a movement either "
            "side dates the next day may be its counterpart"
        )


def _one(links: Links, subject: str, prefix: str) -> str | None:
    return next((ref for ref in links.get(subject, ()) if ref.startswith(prefix)), None)


def _id(ref: str | None) -> str | None:
    return None if ref is None else ref.partition(":")[2]


def _order_of_seller_order(links: Links, seller_order_id: str) -> str | None:
    return _id(_one(links, f"seller_order:{seller_order_id}", "order:"))


def _charge_of_order(links: Links, order_id: str | None) -> str | None:
    intent = None if order_id is None else _id(_one(links, f"order:{order_id}", "intent:"))
    return None if intent is None else f"charge:{intent}"


def reference_of_movement(key: str, links: Links) -> str | None:
    """The provider object a movement of clearing concerns, from its transfer's key (the keys'
    shapes: domain/journal.py); None when Velora knows of none."""
    head, _, rest = key.partition(":")
    parts = rest.split(":")
    if head == "payment":
        return _charge_of_order(links, _order_of_seller_order(links, parts[0]))
    if head == "late-payment":
        intent, _, leg = rest.rpartition(":")
        if leg == "received":
            return f"charge:{intent}"
        order = _id(_one(links, f"intent:{intent}", "order:"))
        return None if order is None else _one(links, f"late:{order}", "refund:")
    if head == "refund":
        if parts[1:2] == ["cancelled"]:  # and its tax: refund:<seller order>:cancelled:tax
            order = _order_of_seller_order(links, parts[0])
            return None if order is None else _one(links, f"cancel:{order}", "refund:")
        return _one(links, f"refund:{parts[0]}", "refund:")
    if head == "dispute":
        return _one(links, f"dispute:{parts[0]}", "dispute:")
    if head == "payout":
        return f"payout:{parts[0]}"
    if head == "processor-fee":
        return f"fee:{rest}"
    return None


def subjects_of_key(key: str) -> list[str]:
    """The links `reference_of_movement` starts from for a key (`next_subjects` goes on)."""
    head, _, rest = key.partition(":")
    parts = rest.split(":")
    if head == "payment" or (head == "refund" and parts[1:2] == ["cancelled"]):
        return [f"seller_order:{parts[0]}"]
    if head in ("refund", "dispute"):
        return [f"{head}:{parts[0]}"]
    if head == "late-payment":
        return [f"intent:{rest.rpartition(':')[0]}"]
    return []


def subjects_of_transaction(t: ProviderTransaction) -> list[str]:
    """The links that name a transaction's payout, or its tenant: its intent, its transfer."""
    subjects = [f"intent:{t.intent_id}"] if t.intent_id else []
    return subjects + ([f"transfer:{t.source_id}"] if t.type == TRANSFER else [])


def disputes_on(
    day: date,
    transactions: Iterable[ProviderTransaction],
    movements: Iterable[LedgerMovement],
    links: Links,
) -> set[str]:
    """The provider's ids of the disputes with an item on `day`, on either side: each is matched
    over its whole life (domain/matching.py), so all their items are read, whenever made."""
    found = {t.source_id for t in transactions if t.type == DISPUTE and day_of(t.created_at) == day}
    for m in movements:
        if m.key.startswith("dispute:") and day_of(m.at) == day:
            reference = reference_of_movement(m.key, links)
            if reference is not None:
                found.add(reference.partition(":")[2])
    return found


def next_subjects(ref: str) -> list[str]:
    """The links one step on from a reference: an order's intent and its refunds."""
    kind, _, ident = ref.partition(":")
    return [f"order:{ident}", f"cancel:{ident}", f"late:{ident}"] if kind == "order" else []


def reference_of_transaction(t: ProviderTransaction, links: Links) -> str:
    if t.type == CHARGE:
        return f"charge:{t.intent_id or t.source_id}"
    if t.type == TRANSFER:
        return _one(links, f"transfer:{t.source_id}", "payout:") or f"transfer:{t.source_id}"
    return f"{t.type}:{t.source_id or t.id}"


def fee_key(transaction_id: str) -> str:
    return f"processor-fee:{transaction_id}"


def books_fee(t: ProviderTransaction) -> bool:
    """Whether reconciliation books this transaction's fee: any but a dispute's, which the lost
    dispute books with its amount."""
    return t.fee_minor != 0 and t.type != DISPUTE


def book_fee(books: Books, t: ProviderTransaction) -> None:
    """The provider's fee: out of clearing into the processor fees expense (a fee given back,
    negative, the other way)."""
    if t.fee_minor > 0:
        books.transfer(
            fee_key(t.id),
            Chart.PROCESSOR_FEES,
            Chart.PROCESSOR_CLEARING,
            t.fee_minor,
            kind=FEE_KIND,
        )
    else:
        books.transfer(
            fee_key(t.id),
            Chart.PROCESSOR_CLEARING,
            Chart.PROCESSOR_FEES,
            -t.fee_minor,
            kind=FEE_RETURNED_KIND,
        )


def provider_items(transactions: Iterable[ProviderTransaction], links: Links) -> list[Item]:
    """Each transaction as an item under its reference, and its fee as one of its own; a
    dispute's fee stays with it, as the ledger books it with the loss."""
    items = []
    for t in transactions:
        reference = reference_of_transaction(t, links)
        amount = t.amount_minor - t.fee_minor if t.type == DISPUTE else t.amount_minor
        on = day_of(t.created_at)
        items.append(Item(reference, t.id, amount, t.type, t.source_id, t.created_at, on))
        if books_fee(t):
            fee = Item(f"fee:{t.id}", t.id, -t.fee_minor, "fee", t.source_id, t.created_at, on)
            items.append(fee)
    return items


def ledger_items(
    movements: Iterable[LedgerMovement],
    links: Links,
    transactions: Iterable[ProviderTransaction] = (),
) -> list[Item]:
    """Each movement as an item under the provider object it concerns, on the day it was
    posted; a fee's on the day of the transaction it was kept of (among `transactions`),
    whenever it was booked."""
    fee_days = {f"fee:{t.id}": day_of(t.created_at) for t in transactions}
    items = []
    for m in movements:
        reference = reference_of_movement(m.key, links)
        on = fee_days.get(reference or "", day_of(m.at))
        items.append(Item(reference, m.transfer_id, m.amount_minor, m.kind, m.key, m.at, on))
    return items


class Reconciliation(TenantAggregate):
    """One tenant's reconciliation of one currency on one UTC day: its id derives from them, so
    a scheduler that runs twice, or two schedulers, record it once. An operator may run the day
    again (`redo`: a late webhook booked what was missing, say): the day's result is then the
    latest run's, counted by `run`, and `fees_booked` holds what every run of the day booked
    (each fee once, by the run that first found the ledger lacking it)."""

    class Completed(TenantAggregate.Created):
        currency: str
        day: str  # YYYY-MM-DD, UTC
        matched: list[dict[str, Any]]
        unmatched_ledger: list[dict[str, Any]]
        unmatched_provider: list[dict[str, Any]]
        processor_fees_minor: int
        fees_booked: list[dict[str, Any]]

    class Redone(TenantAggregate.Event):
        """The day reconciled again: its result now, replacing the one before."""

        run: int  # 2 for the first rerun
        matched: list[dict[str, Any]]
        unmatched_ledger: list[dict[str, Any]]
        unmatched_provider: list[dict[str, Any]]
        processor_fees_minor: int
        fees_booked: list[dict[str, Any]]  # every run's of the day, this one's last

    @staticmethod
    def create_id(tenant_id: UUID, currency: str, day: date) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:reconciliation:{tenant_id}:{currency}:{day}")

    @event(Completed)
    def __init__(
        self,
        tenant_id: UUID,
        currency: str,
        day: str,
        matched: list[dict[str, Any]],
        unmatched_ledger: list[dict[str, Any]],
        unmatched_provider: list[dict[str, Any]],
        processor_fees_minor: int,
        fees_booked: list[dict[str, Any]],
    ) -> None:
        self.tenant_id = tenant_id
        self.currency = currency
        self.day = day
        self.matched = matched
        self.unmatched_ledger = unmatched_ledger
        self.unmatched_provider = unmatched_provider
        self.processor_fees_minor = processor_fees_minor
        self.fees_booked = fees_booked
        self.run = 1

    @classmethod
    def complete(
        cls,
        tenant_id: UUID,
        currency: str,
        day: date,
        outcome: Outcome,
        transactions: Sequence[ProviderTransaction],
        booked: Sequence[ProviderTransaction],
    ) -> Reconciliation:
        """The day's result: the matching's outcome, the fees the provider kept of the
        transactions reconciliation books fees for, and those it had to book."""
        return cls(
            tenant_id=tenant_id,
            currency=currency,
            day=day.isoformat(),
            matched=outcome.matched,
            unmatched_ledger=outcome.unmatched_ledger,
            unmatched_provider=outcome.unmatched_provider,
            processor_fees_minor=_fees_kept(transactions),
            fees_booked=_booked(booked, currency),
        )

    def redo(
        self,
        outcome: Outcome,
        transactions: Sequence[ProviderTransaction],
        booked: Sequence[ProviderTransaction],
    ) -> None:
        """The day reconciled again: the new outcome replaces the last, and the fees this run
        had to book join those the runs before it booked."""
        self._redone(
            run=self.run + 1,
            matched=outcome.matched,
            unmatched_ledger=outcome.unmatched_ledger,
            unmatched_provider=outcome.unmatched_provider,
            processor_fees_minor=_fees_kept(transactions),
            fees_booked=self.fees_booked + _booked(booked, self.currency),
        )

    @event(Redone)
    def _redone(
        self,
        run: int,
        matched: list[dict[str, Any]],
        unmatched_ledger: list[dict[str, Any]],
        unmatched_provider: list[dict[str, Any]],
        processor_fees_minor: int,
        fees_booked: list[dict[str, Any]],
    ) -> None:
        self.run = run
        self.matched = matched
        self.unmatched_ledger = unmatched_ledger
        self.unmatched_provider = unmatched_provider
        self.processor_fees_minor = processor_fees_minor
        self.fees_booked = fees_booked


def _fees_kept(transactions: Sequence[ProviderTransaction]) -> int:
    """What the provider kept of the transactions whose fees reconciliation books."""
    return sum(t.fee_minor for t in transactions if books_fee(t))


def _booked(booked: Sequence[ProviderTransaction], currency: str) -> list[dict[str, Any]]:
    return [
        {"transaction_id": t.id, "fee": {"amount": t.fee_minor, "currency": currency}}
        for t in booked
    ]
