"""The refunds application: requests, decisions, and the money an approved refund moves."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import escrow
from domain.money import Money
from domain.orders import Order
from domain.payments import PaymentProvider
from domain.refunds import InvalidRefund, Refund, RefundNotFound
from domain.seller_orders import SellerOrder, SellerOrderNotFound
from domain.settlement import NotRefundable, Settlement
from eventstore.application import CommandResult, VeloraApplication, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.base import ServiceApplication
from services.ownership import buys_part
from services.settlements import paid_settlement, settlement_of


class RefundApplication(ServiceApplication):
    name = "refunds"

    def __init__(self, log: EventLog, payments: PaymentProvider, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self.payments = payments

    @command
    def request(
        self,
        ctx: CommandContext,
        *,
        seller_order_id: UUID,
        within: UUID | None,
        buyer_id: UUID | None,
        amount: Money | None,
        reason: str,
    ) -> tuple[CommandResult, Money]:
        """Asks for money back on a seller order (its buyer, or an admin when buyer_id is None).
        The amount defaults to everything still refundable."""
        reason = Refund.check_reason(reason)

        def request() -> tuple[CommandResult, Money]:
            so = self.load(SellerOrder, seller_order_id, within, SellerOrderNotFound)
            if buyer_id is not None and not buys_part(self, so.order_id, so.buyer_id, buyer_id):
                raise SellerOrderNotFound(f"seller order {seller_order_id} not found")
            if amount is not None and amount.currency != so.currency:
                raise InvalidRefund(f"this seller order is in {so.currency}")
            settlement = settlement_of(self, so)
            if settlement is None:
                raise NotRefundable(f"seller order {so.id} has nothing left to refund")
            wanted = amount.amount_minor if amount else settlement.refundable_minor
            refund = Refund.of(so, wanted, reason)
            granted = settlement.request_refund(refund.id, wanted)  # the settlement decides
            position = self.record(ctx, refund, settlement)
            return CommandResult(refund.id, position), Money(granted, so.currency)

        return self.retrying(request, "too many concurrent changes to this seller order; try again")

    @command
    def approve(
        self, ctx: CommandContext, refund_id: UUID, *, within: UUID | None, seller_id: UUID | None
    ) -> CommandResult:
        """Approves a refund: paid back through the provider, out of escrow while it is held,
        else charged back to the seller."""

        def approve() -> CommandResult:
            refund = self._decidable(refund_id, within, seller_id)
            so: SellerOrder = self.repository.get(refund.seller_order_id)
            order: Order = self.repository.get(refund.order_id)
            settlement = paid_settlement(self, so)
            moved = pay_back(
                self, self.payments, so, settlement, order, refund, f"refund-{refund.id}"
            )
            return CommandResult(refund.id, self.record(ctx, refund, *moved))

        return self.retrying(approve, "too many concurrent changes to this seller order; try again")

    @command
    def reject(
        self,
        ctx: CommandContext,
        refund_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
        reason: str,
    ) -> CommandResult:
        refund = self._decidable(refund_id, within, seller_id)
        so: SellerOrder = self.repository.get(refund.seller_order_id)
        settlement = paid_settlement(self, so)
        refund.reject(reason)
        settlement.reject_refund(refund.id)
        return CommandResult(refund.id, self.record(ctx, refund, settlement))

    def _decidable(self, refund_id: UUID, within: UUID | None, seller_id: UUID | None) -> Refund:
        refund = self.load(Refund, refund_id, within, RefundNotFound)
        if seller_id is not None and refund.seller_id != seller_id:
            raise RefundNotFound(f"refund {refund_id} not found")
        self.require_acting(seller_id)
        return refund


def pay_back(
    app: VeloraApplication,
    payments: PaymentProvider,
    so: SellerOrder,
    settlement: Settlement,
    order: Order,
    refund: Refund,
    key: str,
) -> list[Any]:
    """Approves a requested refund: paid back through the provider (under the idempotency key
    `velora-<key>`, so an attempt run again never refunds twice), out of escrow while it holds
    the money, else charged back to the seller; a refund of everything paid leaves the seller
    order refunded. Returns the aggregates it changed besides the refund (the settlement, the
    seller order when it is refunded in full, and the ledger's)."""
    plan = settlement.refund(refund.id)
    provider_refund_id = payments.refund(
        intent_id=(order.payment or {}).get("intent_id", ""),
        amount=Money(plan.amount_minor, so.currency),
        idempotency_key=f"velora-{key}",
    )
    refund.approve(provider_refund_id, plan)
    books = Books(app.repository, so.tenant_id, so.currency)
    escrow.refund(books, settlement, plan, f"refund:{refund.id}")
    if plan.whole:
        so.refunded_in_full()
    return [settlement, so, *books.changed()]
