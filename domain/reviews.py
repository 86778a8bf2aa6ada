"""Reviews: one per (product, buyer, order), only once that order's goods were delivered."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound


class ReviewError(DomainError):
    """Base of the reviews context's errors."""


class NotDelivered(ReviewError, Conflict):
    title = "Not delivered"


class AlreadyReviewed(ReviewError, Conflict):
    title = "Already reviewed"


class InvalidReview(ReviewError, Invalid):
    title = "Invalid review"


class ReviewNotFound(ReviewError, NotFound):
    title = "Review not found"


class WrongReviewStep(ReviewError, Conflict):
    title = "Wrong moderation step"


class AlreadyReplied(ReviewError, Conflict):
    title = "Already replied"


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise InvalidReview("a moderation reason has 1 to 500 characters")
    return reason


class Review(TenantAggregate):
    """A buyer's review. Marketplace admins hide it (and restore it) with a reason; the
    product's seller answers it once. A hidden review leaves lists and ratings."""

    class Written(TenantAggregate.Created):
        product_id: UUID
        buyer_id: UUID
        order_id: UUID
        rating: int
        body: str
        # The variants of the product the buyer bought in that order (reviews are per product;
        # a reader sees what the reviewer had). Recorded before variants: none named.
        variant_ids: list[UUID]
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["variant_ids"] = []

    class Hidden(TenantAggregate.Event):
        product_id: UUID
        rating: int
        reason: str

    class Restored(TenantAggregate.Event):
        product_id: UUID
        rating: int
        reason: str

    class Replied(TenantAggregate.Event):
        product_id: UUID
        seller_id: UUID
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
        variant_ids: list[UUID],
    ) -> None:
        self.tenant_id = tenant_id
        self.product_id = product_id
        self.buyer_id = buyer_id
        self.order_id = order_id
        self.rating = rating
        self.body = body
        self.variant_ids = variant_ids
        self.hidden = False
        self.reply: str | None = None

    def hide(self, reason: str) -> None:
        if self.hidden:
            raise WrongReviewStep("this review is hidden already")
        self._hidden(product_id=self.product_id, rating=self.rating, reason=_reason(reason))

    def restore(self, reason: str | None) -> None:
        """Shows it again; a reason is optional here (none: recorded as "")."""
        if not self.hidden:
            raise WrongReviewStep("this review is not hidden")
        given = "" if reason is None else _reason(reason)
        self._restored(product_id=self.product_id, rating=self.rating, reason=given)

    def answer(self, seller_id: UUID, body: str) -> None:
        """The product's seller answers, once (the caller checks it is that seller)."""
        if self.reply is not None:
            raise AlreadyReplied("the seller has answered this review already")
        body = body.strip()
        if not 1 <= len(body) <= 2000:
            raise InvalidReview("a reply has 1 to 2000 characters")
        self._replied(product_id=self.product_id, seller_id=seller_id, body=body)

    @event(Hidden)
    def _hidden(self, product_id: UUID, rating: int, reason: str) -> None:
        self.hidden = True

    @event(Restored)
    def _restored(self, product_id: UUID, rating: int, reason: str) -> None:
        self.hidden = False

    @event(Replied)
    def _replied(self, product_id: UUID, seller_id: UUID, body: str) -> None:
        self.reply = body

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
        variant_ids: list[UUID] | None = None,
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
            variant_ids=list(variant_ids or []),
        )
