"""The fulfilment application: sellers ship and deliver their seller orders; buyers review what
was delivered to them."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.catalog import Product, ProductNotFound
from domain.orders import Order, OrderNotFound, SellerOrder, SellerOrderNotFound, SellerOrderStatus
from domain.reviews import AlreadyReviewed, Review
from eventstore.application import CommandResult, VeloraApplication
from eventstore.context import CommandContext

DELIVERED = (SellerOrderStatus.DELIVERED, SellerOrderStatus.COMPLETED)


class FulfilmentApplication(VeloraApplication):
    name = "fulfilment"

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

    def deliver(
        self,
        ctx: CommandContext,
        seller_order_id: UUID,
        *,
        within: UUID | None,
        seller_id: UUID | None,
    ) -> tuple[CommandResult, str]:
        """Marks a shipment delivered: by its seller, or (seller_id None) by a marketplace admin."""
        seller_order = self._owned(seller_order_id, within, seller_id)
        seller_order.deliver()
        return CommandResult(seller_order.id, self.record(ctx, seller_order)), seller_order.status

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
        if order.buyer_id != buyer_id:
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
        )
        try:
            return CommandResult(review.id, self.record(ctx, review))
        except IntegrityError:
            raise AlreadyReviewed("you already reviewed this product for this order") from None

    def _owned(
        self, seller_order_id: UUID, within: UUID | None, seller_id: UUID | None
    ) -> SellerOrder:
        seller_order = self.load(SellerOrder, seller_order_id, within, SellerOrderNotFound)
        if seller_id is not None and seller_order.seller_id != seller_id:
            raise SellerOrderNotFound(f"seller order {seller_order_id} not found")
        return seller_order
