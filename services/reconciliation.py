"""Reconciliation with the payment provider: each UTC day, once it and the day after are over,
the provider's statement of that day matched to the ledger within a day either side, tenant by
tenant (the rules: domain/reconciliation.py, domain/matching.py; the design: docs/ledger.md,
Reconciliation).

The statement is the provider account's, every tenant's at once: each transaction is attributed to
the tenant whose payment intent (or payout's transfer) it concerns, through the links the
reconciliation projector keeps. One that no tenant's records name is nobody's to reconcile (a
payout to the platform's bank, a charge of another system on the same account) and is left out.
The ledger side is read from the ledger's read model, which the command first lets catch up."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from domain import reconciliation as rules
from domain.disputes import Dispute
from domain.errors import DomainError
from domain.ledger import Transfer
from domain.matching import ONE_DAY, Outcome, match
from domain.payments import PaymentProvider, ProviderTransaction
from domain.reconciliation import LedgerMovement, Links, Reconciliation
from eventstore.application import Contention, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from projections.reconciliation.queries import ReconciliationQueries
from projections.scope import TenantScope
from projections.store import ReadStore
from services.base import ServiceApplication

log = logging.getLogger("velora.reconciliation")

# The read models the ledger side is read from.
READ_MODELS = ("ledger", "reconciliation")
# How many of the days that can be reconciled the scheduler looks back on for one not
# reconciled yet (it was down, say).
LOOKBACK_DAYS = 3


class ReconciliationApplication(ServiceApplication):
    def __init__(
        self,
        log: EventLog,
        payments: PaymentProvider,
        queries: ReconciliationQueries,
        read_store: ReadStore,
        on_recorded: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(log, on_recorded)
        self.payments = payments
        self.queries = queries
        self.read_store = read_store

    def caught_up(self) -> None:
        """Waits for the read models the links and the ledger side are read from to reach
        everything recorded so far: a link not projected yet would leave a transaction with no
        tenant, or a movement with no provider object."""
        if not self.read_store.wait_for(self._log.head(), READ_MODELS, timeout_s=10.0):
            raise Contention("the ledger's read models are behind; reconciliation waits for them")

    def statement(self, day: date) -> dict[str, list[ProviderTransaction]]:
        """The provider's transactions of the days a run of `day` reads (the day, the day after
        and the two before: `rules.read_bounds`) by the tenant they belong to."""
        self.caught_up()
        start, end = rules.read_bounds(day)
        transactions = self.payments.balance_transactions(start=start, end=end)
        owners = self.queries.owners(
            s for t in transactions for s in rules.subjects_of_transaction(t)
        )
        by_tenant: dict[str, list[ProviderTransaction]] = defaultdict(list)
        for t in transactions:
            owner = next((owners[s] for s in rules.subjects_of_transaction(t) if s in owners), None)
            if owner is not None:
                by_tenant[owner].append(t)
        nobodys = len(transactions) - sum(len(ts) for ts in by_tenant.values())
        if nobodys:
            log.info("%s of the provider's transactions of %s are no tenant's", nobodys, day)
        return dict(by_tenant)

    def examine(
        self,
        tenant_id: UUID,
        currency: str,
        day: date,
        transactions: list[ProviderTransaction],
        also: Iterable[LedgerMovement] = (),
    ) -> Outcome:
        """Matches the tenant's transactions in `currency` with processor clearing's movements
        of the days a run of `day` reads, and with the fees booked for them (`also`: movements
        recorded but not yet in the read model), and answers what that says of `day`.
        `transactions`: those of the days read (`statement`). Reads only."""
        scope = TenantScope.only(tenant_id)
        mine = [t for t in transactions if t.currency == currency]
        start, end = rules.read_bounds(day)
        fee_keys = [rules.fee_key(t.id) for t in mine if rules.books_fee(t)]
        movements = [
            *self.queries.movements(scope, currency, start, end),
            *self.queries.fee_movements(scope, currency, fee_keys),
            *also,
        ]
        links = self._links(scope, mine, movements)
        disputes = sorted(rules.disputes_on(day, mine, movements, links))
        if disputes:  # matched over their life: every item of theirs, whenever made
            mine += self._dispute_transactions(disputes, currency, mine)
            movements += self._dispute_movements(scope, disputes, currency, movements)
            links = self._links(scope, mine, movements)
        provider = rules.provider_items(mine, links)
        ledger = rules.ledger_items(movements, links, mine)
        return match(day, provider, ledger, currency)

    def _dispute_transactions(
        self, disputes: list[str], currency: str, known: list[ProviderTransaction]
    ) -> list[ProviderTransaction]:
        """The disputes' transactions at the provider that the days read did not hold."""
        ids = {t.id for t in known}
        return [
            t
            for t in self.payments.dispute_transactions(dispute_ids=disputes)
            if t.currency == currency and t.id not in ids
        ]

    def _dispute_movements(
        self,
        scope: TenantScope,
        disputes: list[str],
        currency: str,
        known: list[LedgerMovement],
    ) -> list[LedgerMovement]:
        """The disputes' clearing movements that the days read did not hold. Velora's id of a
        dispute derives from the provider's (`Dispute.create_id`)."""
        ids = [str(Dispute.create_id(self.payments.name, d)) for d in disputes]
        seen = {m.transfer_id for m in known}
        return [
            m
            for m in self.queries.dispute_movements(scope, currency, ids)
            if m.transfer_id not in seen
        ]

    def _links(
        self,
        scope: TenantScope,
        transactions: list[ProviderTransaction],
        movements: list[LedgerMovement],
    ) -> Links:
        subjects = {s for t in transactions for s in rules.subjects_of_transaction(t)}
        subjects |= {s for m in movements for s in rules.subjects_of_key(m.key)}
        links = self.queries.links(scope, subjects)
        further = {s for refs in links.values() for ref in refs for s in rules.next_subjects(ref)}
        return {**links, **self.queries.links(scope, further - subjects)}

    @command
    def book_fees(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        currency: str,
        transactions: list[ProviderTransaction],
    ) -> list[ProviderTransaction]:
        """Books the fees the provider kept of these transactions that the ledger lacks, each
        once; returns those it booked."""

        def attempt() -> list[ProviderTransaction]:
            books, booked = self._fees(tenant_id, currency, transactions)
            if booked:
                self.record(ctx, *books.changed())
            return booked

        return self.retrying(attempt, "booking processor fees kept conflicting; try again")

    @command
    def reconcile(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        currency: str,
        day: date,
        transactions: list[ProviderTransaction],
        now: datetime,
        again: bool = False,
    ) -> Reconciliation:
        """Reconciles one tenant's `day` (it and the day after over by `now`) in one currency:
        the fees the provider kept of the day's transactions that the ledger lacks are booked,
        everything matched, and the result recorded with those fees in one save. A day
        reconciled already answers as it was, unless it is to be run `again`: then the new
        result replaces it (`Reconciliation.redo`), and a fee an earlier run booked is not
        booked twice. `transactions`: those of the days read."""
        rules.check_over(day, now)
        self.caught_up()
        reconciliation_id = Reconciliation.create_id(tenant_id, currency, day)
        mine = [t for t in transactions if t.currency == currency]
        of_day = [t for t in mine if rules.day_of(t.created_at) == day]

        def attempt() -> Reconciliation:
            done = self.get_or_none(reconciliation_id)
            if isinstance(done, Reconciliation) and not again:
                return done
            books, booked = self._fees(tenant_id, currency, of_day)
            fees = [_fee_movement(tenant_id, t, now) for t in booked]
            outcome = self.examine(tenant_id, currency, day, mine, also=fees)
            if isinstance(done, Reconciliation):
                done.redo(outcome, of_day, booked)
                made = done
            else:
                made = Reconciliation.complete(tenant_id, currency, day, outcome, of_day, booked)
            self.record(ctx, made, *books.changed())
            return made

        return self.retrying(attempt, f"reconciliation of {day} kept conflicting; try again")

    def _fees(
        self, tenant_id: UUID, currency: str, transactions: list[ProviderTransaction]
    ) -> tuple[Books, list[ProviderTransaction]]:
        """The books with the fees the ledger lacks booked in them, and their transactions."""
        books = Books(self.repository, tenant_id, currency)
        booked = [
            t
            for t in transactions
            if t.currency == currency
            and rules.books_fee(t)
            and self.get_or_none(Transfer.create_id(tenant_id, rules.fee_key(t.id))) is None
        ]
        for t in booked:
            rules.book_fee(books, t)
        return books, booked


def _fee_movement(tenant_id: UUID, t: ProviderTransaction, now: datetime) -> LedgerMovement:
    """The clearing movement of a fee this reconciliation books, before the read model has it."""
    key = rules.fee_key(t.id)
    kind = rules.FEE_KIND if t.fee_minor > 0 else rules.FEE_RETURNED_KIND
    return LedgerMovement(str(Transfer.create_id(tenant_id, key)), key, kind, -t.fee_minor, now)


@dataclass
class ReconciliationRuns:
    """The scheduler's side: every UTC day of the last few that can be reconciled (it and the
    day after are over), reconciled for every tenant with activity on it (processor clearing
    moved, or the provider reports one of its transactions). A day is asked of the provider
    once per process when all went through. The operator's `velora reconcile` runs one day
    again through the same `run_day`."""

    reconciliations: ReconciliationApplication
    queries: ReconciliationQueries
    done: set[date] = field(default_factory=set)

    def run_due(self, now: datetime) -> list[Reconciliation]:
        made: list[Reconciliation] = []
        latest = rules.day_of(now) - 2 * ONE_DAY  # the last day whose next day is over
        for back in range(LOOKBACK_DAYS - 1, -1, -1):
            day = latest - back * ONE_DAY
            if day in self.done or rules.reconciled_from(day) > now:
                continue
            try:
                made += self.run_day(day, now)
            except DomainError as e:  # the provider unreachable, say: the next pass tries again
                log.warning("reconciliation of %s waits: %s", day, e.detail)
                continue
            self.done.add(day)
        return made

    def run_day(
        self,
        day: date,
        now: datetime,
        *,
        again: bool = False,
        tenant: str | None = None,
        ctx: CommandContext | None = None,
    ) -> list[Reconciliation]:
        """Reconciles `day` for every tenant with activity on it (or only `tenant`) that has
        none recorded; `again`: those recorded too, each run again, its result replacing the
        last. DayNotOver until the day after it is over too."""
        rules.check_over(day, now)
        statement = self.reconciliations.statement(day)
        start, end = rules.day_bounds(day)
        due = self.queries.active(start, end) | {
            (owner, t.currency)
            for owner, ts in statement.items()
            for t in ts
            if rules.day_of(t.created_at) == day
        }
        if again:
            recorded = self.queries.recorded(TenantScope.every_tenant(), day)
            due |= {(r["tenant_id"], r["currency"]) for r in recorded}
        ctx = ctx or CommandContext.system("scheduler:reconcile")
        made = []
        for owner, currency in sorted(due):
            if tenant is not None and owner != tenant:
                continue
            if not again and self.queries.is_recorded(owner, currency, day):
                continue
            made.append(
                self.reconciliations.reconcile(
                    ctx, UUID(owner), currency, day, statement.get(owner, []), now, again
                )
            )
        return made
