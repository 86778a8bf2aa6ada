"""Reviews: one per (product, buyer, order), only once that order's goods were delivered."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid


class ReviewError(DomainError):
    """Base of the reviews context's errors."""


class NotDelivered(ReviewError, Conflict):
    title = "Not delivered"


class AlreadyReviewed(ReviewError, Conflict):
    title = "Already reviewed"


class InvalidReview(ReviewError, Invalid):
    title = "Invalid review"


class Review(TenantAggregate):
    class Written(TenantAggregate.Created):
        product_id: UUID
        buyer_id: UUID
        order_id: UUID
        rating: int
        body: str

    @staticmethod
    def create_id(product_id: UUID, buyer_id: UUID, order_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:review:{product_id}:{buyer_id}:{order_id}")

    @event(Written)
    def __init__(
        self,
        tenant_id: UUID,
        product_id: UUID,
        buyer_id: UUID,
        order_id: UUID,
        rating: int,
        body: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.product_id = product_id
        self.buyer_id = buyer_id
        self.order_id = order_id
        self.rating = rating
        self.body = body

    @classmethod
    def write(
        cls,
        tenant_id: UUID,
        product_id: UUID,
        buyer_id: UUID,
        order_id: UUID,
        rating: int,
        body: str,
        *,
        delivered: bool,
    ) -> Review:
        if not delivered:
            raise NotDelivered("a product can be reviewed once its order has been delivered")
        if isinstance(rating, bool) or not 1 <= rating <= 5:
            raise InvalidReview("rating must be a whole number from 1 to 5")
        body = body.strip()
        if len(body) > 5000:
            raise InvalidReview("a review has at most 5000 characters")
        return cls(
            tenant_id=tenant_id,
            product_id=product_id,
            buyer_id=buyer_id,
            order_id=order_id,
            rating=rating,
            body=body,
        )
