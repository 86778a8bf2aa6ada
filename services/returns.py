"""The returns application: a buyer's return of delivered lines, its seller's decision, the
buyer's shipment back, and the seller's receipt, which refunds what arrived through the refund
path and restocks what can be sold again, all in one save (domain/returns.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from domain import returns
from domain.identity import Tenant, TenantNotFound
from domain.inventory import Stock
from domain.orders import Order
from domain.payments import PaymentProvider
from domain.returns import (
    AskedLine,
    ReceivedLine,
    Return,
    ReturnNotFound,
    by_variant,
    check_window,
)
from domain.seller_orders import SellerOrder, SellerOrderNotFound
from eventstore.application import CommandResult, command
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.base import ServiceApplication
from services.ownership import buys_part
from services.refunds import pay_back
from services.settlements import paid_settlement

BUSY = "too many concurrent changes to this seller order; try again"


class ReturnApplication(ServiceApplication):
    name = "returns"

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
        buyer_id: UUID,
        lines: list[AskedLine],
        reason: str,
    ) -> CommandResult:
        """The buyer asks to return delivered lines, within the tenant's return window. Each
        line names a product, and the variant bought unless the order has only one of it."""

        def request() -> CommandResult:
            so = self.load(SellerOrder, seller_order_id, within, SellerOrderNotFound)
            if not buys_part(self, so.order_id, so.buyer_id, buyer_id):
                raise SellerOrderNotFound(f"seller order {seller_order_id} not found")
            tenant = self.load(Tenant, so.tenant_id, so.tenant_id, TenantNotFound)
            check_window(so.delivered_at, tenant.return_window_days, datetime.now(UTC))
            units, products = by_variant(so, lines)
            ret = Return.request(
                tenant_id=so.tenant_id,
                seller_order_id=so.id,
                order_id=so.order_id,
                buyer_id=so.buyer_id,
                seller_id=so.seller_id,
                currency=so.currency,
                lines=units,
                products=products,
                reason=reason,
            )
            so.claim_return(ret.id, units)
            return CommandResult(ret.id, self.record(ctx, ret, so))

        return self.retrying(request, BUSY)

    @command
    def authorize(
        self,
        ctx: CommandContext,
        return_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
        instructions: str,
    ) -> CommandResult:
        ret = self._sellers(return_id, within, seller_id)
        ret.authorize(instructions)
        return CommandResult(ret.id, self.record(ctx, ret))

    @command
    def reject(
        self,
        ctx: CommandContext,
        return_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
        reason: str,
    ) -> CommandResult:
        """Rejected: the units it held can be asked for again."""

        def reject() -> CommandResult:
            ret = self._sellers(return_id, within, seller_id)
            ret.reject(reason)
            so: SellerOrder = self.repository.get(ret.seller_order_id)
            so.end_return(ret.id, {})
            return CommandResult(ret.id, self.record(ctx, ret, so))

        return self.retrying(reject, BUSY)

    @command
    def ship(
        self,
        ctx: CommandContext,
        return_id: UUID,
        *,
        within: UUID | None,
        buyer_id: UUID,
        carrier: str,
        tracking_number: str,
    ) -> CommandResult:
        ret = self.load(Return, return_id, within, ReturnNotFound)
        if not buys_part(self, ret.order_id, ret.buyer_id, buyer_id):
            raise ReturnNotFound(f"return {return_id} not found")
        ret.ship(carrier, tracking_number)
        return CommandResult(ret.id, self.record(ctx, ret))

    @command
    def receive(
        self,
        ctx: CommandContext,
        return_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
        lines: list[ReceivedLine],
    ) -> CommandResult:
        """The seller notes what arrived: it is refunded through the refund path (at its price
        in the order, up to what is still refundable) and what can be sold again is restocked
        to the warehouse named."""

        def receive() -> CommandResult:
            ret = self._sellers(return_id, within, seller_id)
            so: SellerOrder = self.repository.get(ret.seller_order_id)
            settlement = paid_settlement(self, so)
            arrived, refund = returns.receive(ret, so, settlement, lines)
            changed: list[Any] = []
            if refund is not None:
                order: Order = self.repository.get(so.order_id)
                key = f"return-{ret.id}"
                moved = pay_back(self, self.payments, so, settlement, order, refund, key)
                changed = [refund, *moved]
            ret.receive(
                arrived, refund.id if refund else None, refund.amount_minor if refund else 0
            )
            for line in arrived:
                if line.restock_warehouse and line.quantity:
                    stock: Stock = self.repository.get(so.stock_of(line.key))
                    stock.restock(line.restock_warehouse, line.quantity, ret.id)
                    changed.append(stock)
            return CommandResult(ret.id, self.record(ctx, ret, so, *changed))

        return self.retrying(receive, BUSY)

    def _sellers(self, return_id: UUID, within: UUID | None, seller_id: UUID | None) -> Return:
        """The return, for its seller (seller_id) or an admin (None)."""
        ret = self.load(Return, return_id, within, ReturnNotFound)
        if seller_id is not None and ret.seller_id != seller_id:
            raise ReturnNotFound(f"return {return_id} not found")
        self.require_acting(seller_id)
        return ret
