"""Model-based test of the ledger: random transfers, pending holds, partial posts, voids,
reversals and replayed commands against a plain-dict model, with the ledger's invariants checked
after every step, on the aggregates saved to and reloaded from an event store."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.ledger import (
    Account,
    AccountType,
    AlreadyReversed,
    ExceedsBalanceLimit,
    Limit,
    Transfer,
    TransferAlreadyResolved,
    post,
    reverse,
    transfer,
    void,
)

CHART = {
    "clearing": (AccountType.ASSET, Limit.NONE),
    "escrow": (AccountType.LIABILITY, Limit.DEBITS_MUST_NOT_EXCEED_CREDITS),
    "payable": (AccountType.LIABILITY, Limit.DEBITS_MUST_NOT_EXCEED_CREDITS),
    "commission": (AccountType.REVENUE, Limit.NONE),
    "receivable": (AccountType.ASSET, Limit.NONE),
}
NAMES = sorted(CHART)
KEYS = [f"cmd-{i}" for i in range(30)]  # a small pool, so commands get replayed


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_books(self) -> None:
        self.store = Application()
        self.tenant = uuid4()
        self.accounts: dict[str, Account] = {
            name: Account.open(self.tenant, "EUR", name, kind, limit)
            for name, (kind, limit) in CHART.items()
        }
        self.store.save(*self.accounts.values())
        # The model: per account [debits_pending, debits_posted, credits_pending, credits_posted]
        self.model = {name: [0, 0, 0, 0] for name in NAMES}
        self.transfers: dict[str, tuple[str, str, int, str]] = {}  # key -> (dr, cr, amount, state)
        self.ids: dict[str, UUID] = {}
        self.reversed: set[str] = set()

    def fresh(self, name: str) -> Account:
        return self.store.repository.get(self.accounts[name].id)

    def limited_room(self, name: str) -> int:
        dp, dpo, _, cpo = self.model[name]
        return cpo - dpo - dp

    @rule(
        key=st.sampled_from(KEYS),
        dr=st.sampled_from(NAMES),
        cr=st.sampled_from(NAMES),
        amount=st.integers(1, 500),
        pending=st.booleans(),
    )
    def make_transfer(self, key: str, dr: str, cr: str, amount: int, pending: bool) -> None:
        if dr == cr:
            return
        debit, credit = self.fresh(dr), self.fresh(cr)
        limited = CHART[dr][1] == Limit.DEBITS_MUST_NOT_EXCEED_CREDITS
        try:
            made = transfer(key, debit, credit, amount, kind="test", pending=pending)
        except ExceedsBalanceLimit:
            assert limited and amount > self.limited_room(dr)
            return
        assert not (limited and amount > self.limited_room(dr)), "a limit was not enforced"
        try:
            self.store.save(made, debit, credit)
        except IntegrityError:
            assert key in self.transfers, "a new transfer was refused"
            return  # the same command again: it moved nothing the second time
        assert key not in self.transfers, "a replayed command moved money twice"
        self.transfers[key] = (dr, cr, amount, "pending" if pending else "posted")
        self.ids[key] = made.id
        slot = 0 if pending else 1
        self.model[dr][slot] += amount
        self.model[cr][slot + 2] += amount

    def pending_keys(self) -> list[str]:
        return sorted(k for k, t in self.transfers.items() if t[3] == "pending")

    def resolved_keys(self) -> list[str]:
        return sorted(k for k, t in self.transfers.items() if t[3] in ("posted", "voided"))

    @precondition(lambda self: self.pending_keys())
    @rule(data=st.data(), fraction=st.fractions(0, 1))
    def post_pending(self, data: st.DataObject, fraction: object) -> None:
        key = data.draw(st.sampled_from(self.pending_keys()))
        dr, cr, amount, _ = self.transfers[key]
        posted = int(amount * fraction)  # type: ignore[operator]
        held: Transfer = self.store.repository.get(self.ids[key])
        debit, credit = self.fresh(dr), self.fresh(cr)
        post(held, debit, credit, posted)
        self.store.save(held, debit, credit)
        self.transfers[key] = (dr, cr, posted, "posted")
        self.model[dr][0] -= amount
        self.model[dr][1] += posted
        self.model[cr][2] -= amount
        self.model[cr][3] += posted

    @precondition(lambda self: self.pending_keys())
    @rule(data=st.data())
    def void_pending(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(self.pending_keys()))
        dr, cr, amount, _ = self.transfers[key]
        held: Transfer = self.store.repository.get(self.ids[key])
        debit, credit = self.fresh(dr), self.fresh(cr)
        void(held, debit, credit)
        self.store.save(held, debit, credit)
        self.transfers[key] = (dr, cr, amount, "voided")
        self.model[dr][0] -= amount
        self.model[cr][2] -= amount

    @precondition(lambda self: self.resolved_keys())
    @rule(data=st.data(), again=st.sampled_from(["post", "void"]))
    def a_pending_transfer_resolves_only_once(self, data: st.DataObject, again: str) -> None:
        key = data.draw(st.sampled_from(self.resolved_keys()))
        dr, cr, _, _ = self.transfers[key]
        done: Transfer = self.store.repository.get(self.ids[key])
        try:
            if again == "post":
                post(done, self.fresh(dr), self.fresh(cr))
            else:
                void(done, self.fresh(dr), self.fresh(cr))
        except TransferAlreadyResolved:
            return
        raise AssertionError(f"{key} was resolved twice")

    @precondition(
        lambda self: [
            k
            for k in self.resolved_keys()
            if self.transfers[k][3] == "posted" and self.transfers[k][2]
        ]
    )
    @rule(data=st.data())
    def reverse_posted(self, data: st.DataObject) -> None:
        key = data.draw(
            st.sampled_from(
                [
                    k
                    for k in self.resolved_keys()
                    if self.transfers[k][3] == "posted" and self.transfers[k][2]
                ]
            )
        )
        dr, cr, amount, _ = self.transfers[key]
        original: Transfer = self.store.repository.get(self.ids[key])
        debit, credit = self.fresh(dr), self.fresh(cr)
        try:
            reversal = reverse(f"reverse:{key}", original, debit, credit)
        except AlreadyReversed:
            assert key in self.reversed
            return
        except ExceedsBalanceLimit:
            # Moving it back would take a limited account below zero: refused, nothing recorded.
            assert CHART[cr][1] == Limit.DEBITS_MUST_NOT_EXCEED_CREDITS
            assert amount > self.limited_room(cr)
            return
        assert key not in self.reversed
        self.store.save(reversal, original, debit, credit)
        self.reversed.add(key)
        self.model[cr][1] += amount
        self.model[dr][3] += amount

    @invariant()
    def books_balance_and_match_the_model(self) -> None:
        if not hasattr(self, "model"):
            return
        accounts = {name: self.fresh(name) for name in NAMES}
        for name, account in accounts.items():
            assert [
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
            ] == self.model[name], name
            if CHART[name][1] == Limit.DEBITS_MUST_NOT_EXCEED_CREDITS:
                assert account.debits_pending + account.debits_posted <= account.credits_posted
                assert account.balance >= 0
            assert min(self.model[name]) >= 0
        debits = sum(a.debits_posted for a in accounts.values())
        credits = sum(a.credits_posted for a in accounts.values())
        assert debits == credits, "posted debits and credits differ"
        assert sum(a.debits_pending for a in accounts.values()) == sum(
            a.credits_pending for a in accounts.values()
        )
        signed = sum(
            a.balance if AccountType(a.type).debit_normal else -a.balance for a in accounts.values()
        )
        assert signed == 0, "the accounts do not sum to zero"


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerMachine = LedgerMachine.TestCase
