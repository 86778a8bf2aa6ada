"""The payouts application: pays every seller of a tenant what is available to it.

A payout happens in two steps, each its own atomic save. Starting it keeps the money aside (a
pending transfer out of the seller's payable) and marks which seller orders' released money it
pays; only then is the provider asked to transfer, with a key derived from the payout. Its answer
posts the payout or, if it refused, voids it. When the provider cannot be reached the payout stays
pending, its money kept aside, and the next run asks again with the same key, so a seller is never
paid twice and never loses what it is owed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from domain.identity import Tenant, TenantNotFound
from domain.ledger import Account, Chart, TransferAlreadyResolved, account_id
from domain.money import Money
from domain.orders import Order
from domain.payments import PaymentProvider, PayoutSource, ProviderRejected, ProviderUnavailable
from domain.payouts import Payout, payable_now, why_not_paid
from domain.sellers import Seller
from domain.settlement import Settlement
from eventstore.application import VeloraApplication, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.settlements import settlement_of


@dataclass(frozen=True)
class PayoutMade:
    id: UUID
    seller_id: UUID
    amount: Money
    status: str


@dataclass(frozen=True)
class PayoutSkipped:
    seller_id: UUID
    reason: str


@dataclass
class PayoutRun:
    made: list[PayoutMade]
    skipped: list[PayoutSkipped]
    position: int


class PayoutApplication(VeloraApplication):
    name = "payouts"

    def __init__(self, log: EventLog, payments: PaymentProvider, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self.payments = payments

    @command
    def run(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        candidates: dict[UUID, list[UUID]],
        run_key: str,
    ) -> PayoutRun:
        """Pays each seller in `candidates` what is available to it, after netting what it owes,
        out of the seller orders listed for it (those with released money not yet paid out).
        The run key makes a repeated run pay nobody twice."""
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound)
        run = PayoutRun([], [], self._log.head())
        for seller_id, seller_order_ids in candidates.items():
            started = self._start(ctx, tenant, seller_id, seller_order_ids, run_key, run)
            if started is not None:
                run.made.append(self.complete(ctx, started, run))
        return run

    @command
    def complete(self, ctx: CommandContext, payout_id: UUID, run: PayoutRun) -> PayoutMade:
        """Asks the provider to make a started payout's transfers and records its answer. Safe
        to call again: the provider sees the same idempotency keys."""
        payout: Payout = self.repository.get(payout_id)
        if payout.status != "pending":
            return _made(payout)
        try:
            transfer_ids: list[str] | None = self.payments.pay_out(
                destination=payout.destination or None,
                currency=payout.currency,
                sources=payout.provider_sources,
                idempotency_key=f"velora-payout-{payout.id}",
            )
            failure = ""
        except ProviderUnavailable:
            return _made(payout)  # still pending, its money kept aside: the next run asks again
        except ProviderRejected as e:
            transfer_ids, failure = None, e.detail

        looked_again = False

        def settle() -> PayoutMade:
            nonlocal looked_again
            payout: Payout = self.repository.get(payout_id)
            if payout.status != "pending":
                return _made(payout)  # a concurrent run recorded the answer first
            books = Books(self.repository, payout.tenant_id, payout.currency)
            settlements = list(self._settlements(payout.seller_order_ids))
            try:
                payout.settle(books, settlements, transfer_ids, failure)
            except TransferAlreadyResolved:
                # A concurrent run recorded the answer after this process's copy of the payout
                # was made, but before its transfer was read: look again once, and see it.
                if looked_again:
                    raise
                looked_again = True
                self._log.aggregates.refresh()
                return settle()
            position = self.record(ctx, payout, *settlements, *books.changed())
            run.position = max(run.position, position)
            return _made(payout)

        return self.retrying(
            settle, "too many concurrent changes to this payout; run payouts again"
        )

    def _start(
        self,
        ctx: CommandContext,
        tenant: Tenant,
        seller_id: UUID,
        seller_order_ids: list[UUID],
        run_key: str,
        run: PayoutRun,
    ) -> UUID | None:
        payout_id = Payout.create_id(tenant.id, run_key, seller_id)

        def start() -> UUID | None:
            if self.get_or_none(payout_id) is not None:
                return payout_id  # this run started it already: finish it
            amount, netted = payable_now(
                self._account(tenant, Chart.seller_payable(seller_id)),
                self._account(tenant, Chart.seller_receivable(seller_id)),
            )
            seller: Seller = self.repository.get(seller_id)
            skipped = why_not_paid(
                amount,
                tenant.min_payout_minor,
                needs_account=self.payments.needs_payout_account,
                payout_account=seller.payout_account or "",
            )
            if skipped is not None:
                if skipped:
                    run.skipped.append(PayoutSkipped(seller_id, skipped))
                return None
            sources = self._sources(seller_order_ids, amount)
            if not sources:
                return None  # the released money is not visible yet: the next run pays it
            books = Books(self.repository, tenant.id, tenant.currency)
            payout = Payout.start(
                books,
                tenant_id=tenant.id,
                run_key=run_key,
                seller_id=seller_id,
                currency=tenant.currency,
                receivable_netted_minor=netted,
                destination=seller.payout_account or "",
                sources=sources,
            )
            changed = [settlement for settlement, _ in sources]
            # A conflict: another run moved this seller's money first; look again.
            run.position = max(run.position, self.record(ctx, payout, *changed, *books.changed()))
            return payout.id

        return self.retrying(
            start, "too many concurrent payout runs for this seller; run payouts again"
        )

    def _sources(
        self, seller_order_ids: list[UUID], amount: int
    ) -> list[tuple[Settlement, PayoutSource]]:
        """Takes `amount` out of the listed seller orders, oldest first, each at most what it
        has left to pay out, each tied to the charge its order was paid with. A seller order an
        open dispute holds is passed over: the card issuer may take its charge's money back,
        so nothing is paid out of it until the dispute closes."""
        sources: list[tuple[Settlement, PayoutSource]] = []
        left = amount
        for settlement in self._settlements(seller_order_ids):
            if left == 0:
                break
            if settlement.under_dispute:
                continue
            take = min(settlement.payout_remaining_minor, left)
            if take <= 0:
                continue
            order: Order = self.repository.get(settlement.order_id)
            source = PayoutSource(settlement.seller_order_id, order.id, order.charge_id, take)
            sources.append((settlement, source))
            left -= take
        return sources

    def _settlements(self, seller_order_ids: list[UUID]) -> Iterator[Settlement]:
        """The settlements of seller orders that were paid, loaded one at a time as they are
        asked for (a run stops taking sources once it has its amount)."""
        for seller_order_id in seller_order_ids:
            settlement = settlement_of(self, self.repository.get(seller_order_id))
            if settlement is not None:
                yield settlement

    def _account(self, tenant: Tenant, code: str) -> Account | None:
        found = self.get_or_none(account_id(tenant.id, tenant.currency, code))
        return found if isinstance(found, Account) else None


def _made(payout: Payout) -> PayoutMade:
    return PayoutMade(
        payout.id, payout.seller_id, Money(payout.amount_minor, payout.currency), payout.status
    )
