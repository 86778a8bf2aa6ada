"""The payouts application: pays every seller of a tenant what is available to it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.identity import Tenant, TenantNotFound
from domain.ledger import Account, Chart, account_id
from domain.money import Money
from domain.payments import PaymentProvider
from domain.payouts import Payout, payable_now
from eventstore.application import VeloraApplication
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog


@dataclass(frozen=True)
class PayoutMade:
    id: UUID
    seller_id: UUID
    amount: Money
    status: str


class PayoutApplication(VeloraApplication):
    name = "payouts"

    def __init__(self, log: EventLog, payments: PaymentProvider, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self.payments = payments

    def run(
        self, ctx: CommandContext, *, tenant_id: UUID, seller_ids: list[UUID], run_key: str
    ) -> tuple[list[PayoutMade], int]:
        """Pays each seller what is available to it (after netting its receivable). The run key
        makes a repeated run pay nobody twice. Returns the payouts and the last position."""
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound)
        made, position = [], self._log.head()
        for seller_id in seller_ids:
            payout = self._pay(ctx, tenant, seller_id, run_key)
            if payout is not None:
                made.append(payout[0])
                position = max(position, payout[1])
        return made, position

    def _pay(
        self, ctx: CommandContext, tenant: Tenant, seller_id: UUID, run_key: str
    ) -> tuple[PayoutMade, int] | None:
        existing = self.get_or_none(Payout.create_id(tenant.id, run_key, seller_id))
        if isinstance(existing, Payout):
            return None  # this run already paid this seller
        amount, netted = payable_now(
            self._account(tenant, Chart.seller_payable(seller_id)),
            self._account(tenant, Chart.seller_receivable(seller_id)),
        )
        if amount <= 0:
            return None
        books = Books(self.repository, tenant.id, tenant.currency)
        payout = Payout.start(
            books,
            tenant_id=tenant.id,
            run_key=run_key,
            seller_id=seller_id,
            currency=tenant.currency,
            amount_minor=amount,
            receivable_netted_minor=netted,
        )
        transfer_id = self.payments.pay_out(
            seller_id=seller_id,
            amount=Money(amount, tenant.currency),
            idempotency_key=f"velora-payout-{payout.id}",
        )
        payout.settle(books, transfer_id)
        try:
            position = self.record(ctx, payout, *books.changed())
        except IntegrityError:
            return None  # a concurrent run with the same key paid this seller first
        return PayoutMade(
            payout.id, seller_id, Money(amount, tenant.currency), payout.status
        ), position

    def _account(self, tenant: Tenant, code: str) -> Account | None:
        found = self.get_or_none(account_id(tenant.id, tenant.currency, code))
        return found if isinstance(found, Account) else None
