"""How reconciliation matches the provider's items to the ledger's (docs/ledger.md,
Reconciliation: Matching, Within a day either side, A dispute over its life).

Both sides' items are grouped by the provider object they concern (their reference,
domain/reconciliation.py), and each item belongs to a UTC day: a provider transaction to the day
it was created, a ledger movement to the day it was posted, a fee to the day of the transaction
it was kept of, whenever it was booked.

**Within a day either side.** The provider and Velora do not date one movement alike: a charge
the provider creates at 23:59:59 is posted by the webhook at 00:00:01 the next day, a refund
Velora posts at midnight the provider may date a second later. So a group's items match when
they move the same amount on one day, or, failing that, across two neighbouring days:

- *settled on day X*: the group's items of X settle (below);
- *straddling X and X+1*: neither day settles on its own, both hold items, and together they
  settle;
- *matched across X and X+1*: it straddles them, and does not straddle X-1 and X (an item may
  be matched once only: of two overlapping pairs, the earlier one takes it).

A pair is reported on its earlier day, whose run reads the day after; the later day's run leaves
those items out instead of reporting them missing. Each of these depends on the items of three
days at most, so every day's run decides alike about the items it shares with its neighbours,
however often and in whatever order the days are reconciled, and a day is reconciled once the
day after it is over too (domain/reconciliation.py `reconciled_from`). Items more than a day
apart never match: each is listed on its own day.

**A dispute over its life.** A dispute's money moves weeks apart: the provider withdraws the
amount and its fee when the dispute opens, and gives them back when it is won; the ledger moves
processor clearing only when it is lost (domain/escrow.py), and not at all when it is won. So a
dispute's group is matched over all its items, whenever made (the service reads them all for
every dispute with an item on the day): it matches when they settle, on the day of its latest
item (an earlier day's run leaves them out), and until then the day's items are listed with
why: a withdrawal the ledger has not booked is a dispute still open.

A group settles when both sides hold items of it and move the same amount to the minor unit, or
when one side has nothing of it and the other's items cancel out: a won dispute's withdrawal
and reinstatement, which the ledger never had to book.

What is not matched is listed on the side that has it, with the reason: the amounts differ
(both sides moved something of it within the window), or only one side has anything of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Item:
    """One side's part of a group: a provider transaction (or its fee), or a ledger movement."""

    reference: str | None
    id: str
    amount_minor: int
    what: str  # the transaction's type, or the transfer's kind
    detail: str  # the provider object, or the transfer's key
    at: datetime
    day: date  # the UTC day it belongs to


@dataclass(frozen=True)
class Outcome:
    matched: list[dict[str, Any]] = field(default_factory=list)
    unmatched_ledger: list[dict[str, Any]] = field(default_factory=list)
    unmatched_provider: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Sides:
    """A group's items of some days, the provider's and the ledger's."""

    provider: tuple[Item, ...] = ()
    ledger: tuple[Item, ...] = ()

    def __add__(self, other: Sides) -> Sides:
        return Sides(self.provider + other.provider, self.ledger + other.ledger)

    def __bool__(self) -> bool:
        return bool(self.provider or self.ledger)

    @property
    def moved(self) -> tuple[int, int]:
        """What the provider and the ledger moved of it."""
        return sum(i.amount_minor for i in self.provider), sum(i.amount_minor for i in self.ledger)

    def settles(self) -> bool:
        """Both sides move the same amount to the minor unit: both hold something of it, or
        the one that does moves nothing in all (a dispute withdrawn and given back)."""
        moved_p, moved_l = self.moved
        both = bool(self.provider) and bool(self.ledger)
        return moved_p == moved_l and (both or (bool(self) and moved_p == 0))


class Group:
    """One reference's items, day by day."""

    def __init__(self) -> None:
        self.days: dict[date, Sides] = {}

    def add(self, item: Item, provider: bool) -> None:
        on = self.on(item.day)
        self.days[item.day] = on + (Sides((item,)) if provider else Sides((), (item,)))

    def on(self, day: date) -> Sides:
        return self.days.get(day, Sides())

    def settled(self, day: date) -> bool:
        return self.on(day).settles()

    def straddles(self, day: date) -> bool:
        """Day and the next settle together, though neither settles alone."""
        first, second = self.on(day), self.on(day + ONE_DAY)
        return (
            bool(first)
            and bool(second)
            and not first.settles()
            and not second.settles()
            and (first + second).settles()
        )

    def across(self, day: date) -> bool:
        """Matched across `day` and the next: an earlier overlapping pair takes precedence."""
        return self.straddles(day) and not self.straddles(day - ONE_DAY)

    def left_open(self, day: date) -> Sides:
        """The day's items no match takes, as far as the days read can tell."""
        if self.settled(day) or self.across(day) or self.across(day - ONE_DAY):
            return Sides()
        return self.on(day)


PROVIDER_ONLY = {
    "charge": "a charge the ledger never booked (its payment did not reach Velora)",
    "refund": "a refund made at the provider that the ledger never booked",
    "payout": "a payout to a seller the ledger does not hold as paid",
    "transfer": "a transfer to a connected account that no payout of Velora made",
    "fee": "a processor fee the ledger lacks",
}
LEDGER_ONLY = "the provider reports no transaction of it on this day or the days either side"
UNKNOWN = "it moved processor clearing but names no provider object Velora knows of"
# Matched over their whole life, not within a window (above).
LIFELONG = ("dispute:",)
DISPUTE_OPEN = (
    "a dispute's withdrawal the ledger has not booked: the dispute is open (the ledger books "
    "it if it is lost, and nothing if it is won and given back)"
)
DISPUTE_LEDGER_ONLY = "the provider reports no transaction of this dispute"


def match(day: date, provider: Sequence[Item], ledger: Sequence[Item], currency: str) -> Outcome:
    """The day's outcome: its items matched group by group, on the day or across a neighbouring
    one, and the rest listed on the side that has them with the reason. `provider` and `ledger`
    hold the items of the days read around `day` (domain/reconciliation.py `read_bounds`)."""
    groups: dict[str, Group] = defaultdict(Group)
    outcome = Outcome()
    for item in provider:
        groups[item.reference or ""].add(item, provider=True)
    for item in ledger:
        if item.reference is not None:
            groups[item.reference].add(item, provider=False)
        elif item.day == day:
            outcome.unmatched_ledger.append(_shown(item, currency, False) | {"reason": UNKNOWN})
    for reference in sorted(groups):
        if reference.startswith(LIFELONG):
            _match_life(day, reference, groups[reference], outcome, currency)
        else:
            _match_group(day, reference, groups[reference], outcome, currency)
    return outcome


def _match_life(day: date, reference: str, group: Group, outcome: Outcome, currency: str) -> None:
    """A group matched over all its items: on the day of its latest, once they settle."""
    today = group.on(day)
    if not today:
        return
    life = Sides()
    for on in sorted(group.days):
        life += group.days[on]
    if life.settles():
        if max(group.days) == day:  # else the run of the day it settled matches it
            _matched(outcome, reference, life, currency)
        return
    moved_p, moved_l = life.moved
    if life.provider and all(i.amount_minor < 0 for i in life.provider) and not life.ledger:
        why_p = why_l = DISPUTE_OPEN
    elif life.provider:
        why_p = why_l = (
            f"amounts differ over the dispute's life: the provider moved {moved_p}, "
            f"the ledger {moved_l}"
        )
    else:
        why_p = why_l = DISPUTE_LEDGER_ONLY
    outcome.unmatched_provider.extend(
        _shown(i, currency, True) | {"reason": why_p} for i in today.provider
    )
    outcome.unmatched_ledger.extend(
        _shown(i, currency, False) | {"reason": why_l} for i in today.ledger
    )


def _match_group(day: date, reference: str, group: Group, outcome: Outcome, currency: str) -> None:
    today = group.on(day)
    if not today:
        return
    if group.settled(day):
        _matched(outcome, reference, today, currency)
    elif group.across(day):
        _matched(outcome, reference, today + group.on(day + ONE_DAY), currency)
    elif not group.across(day - ONE_DAY):  # else the day before's run matched them
        near = group.left_open(day - ONE_DAY) + group.left_open(day + ONE_DAY)
        _unmatched(outcome, reference, today, near, currency)


def _matched(outcome: Outcome, reference: str, sides: Sides, currency: str) -> None:
    outcome.matched.append(
        {
            "reference": reference,
            "amount": {"amount": sides.moved[0], "currency": currency},
            "transactions": [i.id for i in sides.provider],
            "transfers": [i.id for i in sides.ledger],
            "days": sorted({i.day.isoformat() for i in sides.provider + sides.ledger}),
        }
    )


def _unmatched(outcome: Outcome, reference: str, today: Sides, near: Sides, currency: str) -> None:
    """Lists the day's items of a group that did not match. The reason looks at what its
    neighbouring days left open too: a movement the other side dated a day off, but for
    another amount, is a difference of amounts, not one side's alone."""
    seen = today + near
    if seen.provider and seen.ledger:
        moved_p, moved_l = seen.moved
        why_p = why_l = f"amounts differ: the provider moved {moved_p}, the ledger {moved_l}" + (
            " (this day and the days either side)" if near else ""
        )
    else:
        kind = reference.partition(":")[0]
        why_p = PROVIDER_ONLY.get(kind, "the ledger has nothing of it")
        why_l = LEDGER_ONLY
    outcome.unmatched_provider.extend(
        _shown(i, currency, True) | {"reason": why_p} for i in today.provider
    )
    outcome.unmatched_ledger.extend(
        _shown(i, currency, False) | {"reason": why_l} for i in today.ledger
    )


def _shown(item: Item, currency: str, provider: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "reference": item.reference,
        "amount": {"amount": item.amount_minor, "currency": currency},
        "at": item.at.astimezone(UTC).isoformat(),
    }
    if provider:
        shown |= {"transaction_id": item.id, "type": item.what, "source": item.detail}
    else:
        shown |= {"transfer_id": item.id, "kind": item.what, "key": item.detail}
    return shown
