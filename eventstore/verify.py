"""Verification for auditors, in one pass over the whole log:

- the chain: every event's link recomputed from its stored bytes and compared with the stored
  link; the first that differs, or an event without a link, or a link without its event, is named;
- the ledger's trial balance, recomputed from the ledger's own events (not from a read model):
  posted debits and credits per tenant and currency must be equal;
- every period seal: the chain at the sealed position must still have the sealed hash, and the
  tenant's trial balance there must still be the sealed one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from domain.audit import PeriodSeal
from domain.ledger import Account
from eventstore.chain import GENESIS, link
from eventstore.log import EventLog

Progress = Callable[[int, int], None]
OPENED, ENTERED, RESOLVED = (
    get_topic(Account.Opened),
    get_topic(Account.Entered),
    get_topic(Account.PendingResolved),
)
SEALED = get_topic(PeriodSeal.Sealed)
BATCH = 2000


@dataclass(frozen=True)
class BrokenLink:
    position: int
    aggregate_id: str | None
    version: int | None
    type: str | None
    reason: str


@dataclass(frozen=True)
class SealCheck:
    tenant_id: str
    period: str
    position: int
    intact: bool
    reason: str = ""


@dataclass
class Verification:
    events_checked: int = 0
    chain_intact: bool = True
    first_broken: BrokenLink | None = None
    head_position: int = 0
    head_hash: str = ""
    trial_balance: list[dict[str, Any]] = field(default_factory=list)
    seals: list[SealCheck] = field(default_factory=list)

    @property
    def ledger_balanced(self) -> bool:
        return all(row["debits"] == row["credits"] for row in self.trial_balance)

    @property
    def intact(self) -> bool:
        return self.chain_intact and self.ledger_balanced and all(s.intact for s in self.seals)

    def report(self) -> dict[str, Any]:
        """The verification as the API and the CLI report it."""
        return {
            "events_checked": self.events_checked,
            "chain_intact": self.chain_intact,
            "ledger_balanced": self.ledger_balanced,
            "seals_intact": all(s.intact for s in self.seals),
            "head": {"position": self.head_position, "hash": self.head_hash},
            "first_broken": asdict(self.first_broken) if self.first_broken else None,
            "trial_balance": self.trial_balance,
            "seals": [asdict(s) for s in self.seals],
        }


class TrialBalance:
    """Posted debits and credits per tenant and currency, folded from ledger account events."""

    def __init__(self) -> None:
        self._accounts: dict[str, tuple[str, str]] = {}
        self.sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])

    def add(self, topic: str, aggregate_id: str, data: dict[str, Any]) -> None:
        if topic == OPENED:
            self._accounts[aggregate_id] = (str(data["tenant_id"]), data["currency"])
            return
        amount = data["amount"] if topic == ENTERED and not data["pending"] else 0
        if topic == RESOLVED:
            amount = data["posted_amount"]
        if amount:
            key = self._accounts[aggregate_id]
            self.sums[key][0 if data["side"] == "debit" else 1] += amount

    def of(self, tenant_id: str | None = None) -> list[dict[str, Any]]:
        return [
            {"tenant_id": tenant, "currency": currency, "debits": d, "credits": c}
            for (tenant, currency), (d, c) in sorted(self.sums.items())
            if tenant_id is None or tenant == tenant_id
        ]


def sealed_balance(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A trial balance as a seal records it: per currency, without the tenant."""
    return [{k: r[k] for k in ("currency", "debits", "credits")} for r in rows]


class Verifier:
    def __init__(self, log: EventLog) -> None:
        self.log = log

    def _seals(self) -> list[dict[str, Any]]:
        seals: list[dict[str, Any]] = []
        after = 0
        while True:
            found = self.log.read_raw(after, BATCH, topics=(SEALED,))
            if not found:
                return seals
            for n in found:
                data, _ = self.log.mapper.decode_envelope(n)
                seals.append({**data, "seal_position": n.id})
            after = found[-1].id

    def verify(self, on_progress: Progress | None = None) -> Verification:
        result = Verification()
        head = self.log.head()
        seals = self._seals()
        watched = {s["position"] for s in seals}
        hashes_at: dict[int, bytes] = {}
        balances_at: dict[int, TrialBalance] = {}
        books = TrialBalance()
        previous, after = GENESIS, 0
        while after < head:
            batch = self.log.read_raw(after, BATCH)
            if not batch:
                break
            upto = batch[-1].id
            links = self.log.chain(after, upto)
            if result.chain_intact:
                orphan = sorted(set(links) - {n.id for n in batch})
                if orphan:
                    self._broken(result, orphan[0], None, "a link whose event is gone")
            for n in batch:
                previous = link(
                    previous, n.id, n.originator_id, n.originator_version, n.topic, n.state
                )
                if result.chain_intact and links.get(n.id) != previous:
                    why = "no link" if n.id not in links else "its stored bytes have changed"
                    self._broken(result, n.id, n, why)
                if n.topic in (OPENED, ENTERED, RESOLVED):
                    data, _ = self.log.mapper.decode_envelope(n)
                    books.add(n.topic, str(n.originator_id), data)
                if n.id in watched:
                    hashes_at[n.id] = previous
                    balances_at[n.id] = _copy(books)
            result.events_checked += len(batch)
            result.head_position, result.head_hash = upto, previous.hex()
            after = upto
            if on_progress is not None:
                on_progress(result.events_checked, head)
        result.trial_balance = books.of()
        result.seals = [self._check(s, hashes_at, balances_at) for s in seals]
        return result

    @staticmethod
    def _broken(result: Verification, position: int, n: Any, reason: str) -> None:
        result.chain_intact = False
        result.first_broken = BrokenLink(
            position=position,
            aggregate_id=str(n.originator_id) if n is not None else None,
            version=n.originator_version if n is not None else None,
            type=n.topic.rsplit(":", 1)[-1] if n is not None else None,
            reason=reason,
        )

    @staticmethod
    def _check(
        seal: dict[str, Any], hashes: dict[int, bytes], balances: dict[int, TrialBalance]
    ) -> SealCheck:
        tenant, position = str(seal["tenant_id"]), seal["position"]

        def checked(intact: bool, reason: str = "") -> SealCheck:
            return SealCheck(tenant, seal["period"], position, intact, reason)

        if position not in hashes:
            return checked(False, "the sealed position is no longer in the log")
        if hashes[position].hex() != seal["chain_hash"]:
            return checked(False, "the chain up to the seal has changed")
        if sealed_balance(balances[position].of(tenant)) != seal["trial_balance"]:
            return checked(False, "the trial balance at the seal has changed")
        return checked(True)


def _copy(books: TrialBalance) -> TrialBalance:
    copy = TrialBalance()
    copy.sums.update({k: list(v) for k, v in books.sums.items()})
    return copy
