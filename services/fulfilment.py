"""The fulfilment application: sellers ship and deliver their seller orders; buyers review what
was delivered to them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain import escrow
from domain.catalog import Product
from domain.identity import Tenant, TenantNotFound
from domain.listing import ProductNotFound
from domain.orders import Order, OrderNotFound
from domain.reviews import AlreadyReviewed, Review, ReviewNotFound
from domain.seller_orders import SellerOrder, SellerOrderNotFound, SellerOrderStatus
from domain.settlement import Settlement
from eventstore.application import CommandResult, command
from eventstore.books import Books
from eventstore.context import CommandContext
from services.base import ServiceApplication
from services.ownership import buys
from services.settlements import paid_settlement

DELIVERED = (SellerOrderStatus.DELIVERED, SellerOrderStatus.COMPLETED)


class FulfilmentApplication(ServiceApplication):
    name = "fulfilment"

    @command
    def ship(
        self,
        ctx: CommandContext,
        seller_order_id: UUID,
        *,
        seller_id: UUID,
        carrier: str,
        tracking_number: str,
    ) -> tuple[CommandResult, str]:
        seller_order = self._owned(seller_order_id, None, seller_id)
        seller_order.ship(carrier, tracking_number)
        return CommandResult(seller_order.id, self.record(ctx, seller_order)), seller_order.status

    @command
    def deliver(
        self,
        ctx: CommandContext,
        seller_order_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
    ) -> tuple[CommandResult, str]:
        """Marks a shipment delivered: by its seller, or (seller_id None) by a marketplace admin.
        With a release delay of 0 days the escrow is released in the same step, unless a
        dispute holds it (the scheduler releases it once the dispute is won)."""
        seller_order = self._owned(seller_order_id, within, seller_id)
        tenant = self.load(Tenant, seller_order.tenant_id, seller_order.tenant_id, TenantNotFound)
        now = datetime.now(UTC)
        seller_order.deliver(tenant.escrow_hold_days, now)
        changed: list[Any] = [seller_order]
        if tenant.escrow_hold_days == 0:
            settlement = paid_settlement(self, seller_order)
            if not settlement.under_dispute:
                changed += self._release(seller_order, settlement, now)
        return CommandResult(seller_order.id, self.record(ctx, *changed)), seller_order.status

    @command
    def release_escrow(
        self, ctx: CommandContext, seller_order_id: UUID, now: datetime
    ) -> CommandResult:
        """Releases a delivered seller order's escrow once its release date has passed (the
        scheduler)."""
        seller_order = self.load(SellerOrder, seller_order_id, None, SellerOrderNotFound)
        settlement = paid_settlement(self, seller_order)
        changed = [seller_order, *self._release(seller_order, settlement, now)]
        return CommandResult(seller_order.id, self.record(ctx, *changed))

    def _release(
        self, seller_order: SellerOrder, settlement: Settlement, now: datetime
    ) -> list[Any]:
        settlement.release(
            delivered=seller_order.is_delivered, due_at=seller_order.escrow_release_due_at, now=now
        )
        seller_order.complete()
        books = Books(self.repository, settlement.tenant_id, settlement.currency)
        escrow.release(books, settlement)
        return [settlement, *books.changed()]

    @command
    def review(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        buyer_id: UUID,
        product_id: UUID,
        order_id: UUID,
        rating: int,
        body: str,
    ) -> CommandResult:
        self.load(Product, product_id, tenant_id, ProductNotFound)
        order = self.load(Order, order_id, tenant_id, OrderNotFound)
        if not buys(self, order, buyer_id):
            raise OrderNotFound(f"order {order_id} not found")
        seller_orders: list[SellerOrder] = [self.repository.get(i) for i in order.seller_order_ids]
        containing = [so for so in seller_orders if so.contains(product_id)]
        if not containing:
            raise ProductNotFound(f"order {order_id} has no product {product_id}")
        review = Review.write(
            tenant_id,
            product_id,
            buyer_id,
            order_id,
            rating,
            body,
            delivered=containing[0].status in DELIVERED,
            variant_ids=[
                line.variant_id
                for line in containing[0].order_lines
                if line.product_id == product_id
            ],
        )
        try:
            return CommandResult(review.id, self.record(ctx, review))
        except IntegrityError:
            raise AlreadyReviewed("you already reviewed this product for this order") from None

    @command
    def moderate_review(
        self,
        ctx: CommandContext,
        review_id: UUID,
        within: UUID | None,
        hide: bool,
        reason: str | None,
    ) -> CommandResult:
        """Hides a review, with the reason on the record (required), or restores a hidden one
        (a reason optional)."""
        review = self.load(Review, review_id, within, ReviewNotFound)
        if hide:
            review.hide(reason or "")
        else:
            review.restore(reason)
        return CommandResult(review.id, self.record(ctx, review))

    @command
    def reply_to_review(
        self, ctx: CommandContext, review_id: UUID, tenant_id: UUID, seller_id: UUID, body: str
    ) -> CommandResult:
        """The reviewed product's seller answers the review, once."""
        review = self.load(Review, review_id, tenant_id, ReviewNotFound)
        product = self.load(Product, review.product_id, tenant_id, ProductNotFound, reading=True)
        if product.seller_id != seller_id or review.hidden:
            raise ReviewNotFound(f"review {review_id} not found")
        self.require_acting(seller_id)
        review.answer(seller_id, body)
        return CommandResult(review.id, self.record(ctx, review))

    def _owned(
        self, seller_order_id: UUID, within: UUID | None, seller_id: UUID | None
    ) -> SellerOrder:
        seller_order = self.load(SellerOrder, seller_order_id, within, SellerOrderNotFound)
        if seller_id is not None and seller_order.seller_id != seller_id:
            raise SellerOrderNotFound(f"seller order {seller_order_id} not found")
        self.require_acting(seller_id)
        return seller_order
