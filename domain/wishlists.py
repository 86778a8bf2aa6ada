"""Wishlists: the products a buyer keeps an eye on. A price drop on one of them is news for the
buyer (the notifications consumer tells them)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, NotFound

MAX_WISHED = 500


class WishlistError(DomainError):
    """Base of the wishlists context's errors."""


class NotWished(WishlistError, NotFound):
    title = "Not on the wishlist"


class WishlistFull(WishlistError, Conflict):
    title = "Wishlist full"


class Wishlist(TenantAggregate):
    """One buyer's wishlist. Its id derives from the buyer's, so there is one per buyer."""

    class Started(TenantAggregate.Created):
        buyer_id: UUID

    class ProductAdded(TenantAggregate.Event):
        buyer_id: UUID
        product_id: UUID

    class ProductRemoved(TenantAggregate.Event):
        buyer_id: UUID
        product_id: UUID

    @staticmethod
    def create_id(buyer_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:wishlist:{buyer_id}")

    @event(Started)
    def __init__(self, tenant_id: UUID, buyer_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.buyer_id = buyer_id
        self.products: set[UUID] = set()

    @classmethod
    def start(cls, tenant_id: UUID, buyer_id: UUID) -> Wishlist:
        return cls(tenant_id=tenant_id, buyer_id=buyer_id)

    def add(self, product_id: UUID) -> None:
        """Keeps the product on the list; it being there already changes nothing."""
        if product_id in self.products:
            return
        if len(self.products) >= MAX_WISHED:
            raise WishlistFull(f"a wishlist holds at most {MAX_WISHED} products")
        self._added(buyer_id=self.buyer_id, product_id=product_id)

    def remove(self, product_id: UUID) -> None:
        if product_id not in self.products:
            raise NotWished(f"product {product_id} is not on your wishlist")
        self._removed(buyer_id=self.buyer_id, product_id=product_id)

    @event(ProductAdded)
    def _added(self, buyer_id: UUID, product_id: UUID) -> None:
        self.products.add(product_id)

    @event(ProductRemoved)
    def _removed(self, buyer_id: UUID, product_id: UUID) -> None:
        self.products.discard(product_id)
