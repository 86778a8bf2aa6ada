"""Product reviews by buyers whose order was delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    Allowed,
    CatalogQueriesDep,
    Ctx,
    Cursor,
    FulfilmentDep,
    Limit,
    ReadAfter,
    Scope,
    acting_seller_id,
    commanded,
    confinement,
    not_for_guests,
)
from api.policy import can_see_product, is_guest, roles_for
from api.problems import Problem
from api.security import Principal

router = APIRouter(prefix="/v1/products", tags=["reviews"])


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: UUID
    rating: int = Field(ge=1, le=5, strict=True)
    body: str = Field(default="", max_length=5000)


class ReplyOut(BaseModel):
    body: str
    created_at: datetime


class BoughtVariant(BaseModel):
    id: str
    sku: str
    options: dict[str, str]


class ReviewOut(BaseModel):
    """A review as everyone in the tenant reads it: who wrote it and for which order stay out
    (buyers have no public name yet)."""

    id: str
    product_id: str
    rating: int
    body: str
    variants: list[BoughtVariant] = Field(
        description="the variants of the product the reviewer bought (empty for reviews "
        "written before variants existed)"
    )
    created_at: datetime
    reply: ReplyOut | None = Field(description="the seller's answer, if it gave one")
    hidden_reason: str | None = Field(default=None, description="only in ?hidden=true lists")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=2000)


class ReviewPage(BaseModel):
    items: list[ReviewOut]
    next_cursor: str | None


@router.post(
    "/{product_id}/reviews",
    status_code=201,
    response_model=dict[str, str],
    responses={409: {"description": "not delivered yet, or already reviewed"}},
)
def write_review(
    product_id: UUID,
    body: ReviewIn,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("reviews:write"))],
) -> dict[str, str]:
    """Reviews a product bought in the given order, once that seller order was delivered; one
    review per product, buyer and order."""
    result = fulfilment.review(
        ctx,
        tenant_id=principal.tenant_id,
        buyer_id=principal.user_id,
        product_id=product_id,
        order_id=body.order_id,
        rating=body.rating,
        body=body.body,
    )
    return commanded(response, result)


@router.get(
    "/{product_id}/reviews", response_model=ReviewPage, dependencies=[Depends(ReadAfter("catalog"))]
)
def list_reviews(
    product_id: UUID,
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("products:read"))],
    hidden: Annotated[
        bool, Query(description="marketplace admins: the hidden reviews, with their reasons")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """A product's reviews, oldest first, each with its seller's answer. Hidden ones are left
    out (and out of every rating); moderators list them with `?hidden=true`. Guests (a
    publishable key, no token) read the reviews of a product on sale, as everyone does."""
    product = catalog_queries.product(scope, str(product_id))
    if product is None or not can_see_product(
        principal.roles, str(acting_seller_id(principal)), product
    ):
        raise Problem(404, f"product {product_id} not found")
    if hidden and not principal.has_any(roles_for("reviews:moderate")):
        if is_guest(principal.roles):
            raise not_for_guests()
        raise Problem(403, "only the marketplace's admins list hidden reviews")
    page = catalog_queries.reviews(
        scope, str(product_id), hidden=hidden, limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


moderation = APIRouter(prefix="/v1/reviews", tags=["reviews"])


class RestoreIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, min_length=1, max_length=500)


Moderator = Annotated[Principal, Depends(Allowed("reviews:moderate"))]


@moderation.post(
    "/{review_id}/hide",
    response_model=dict[str, str],
    responses={409: {"description": "hidden already"}},
)
def hide_review(
    review_id: UUID,
    body: ReasonIn,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Moderator,
) -> dict[str, str]:
    """Hides a review, with the reason on the record (audited): it leaves the product's
    reviews and every rating. 409 if hidden already."""
    result = fulfilment.moderate_review(ctx, review_id, confinement(principal), True, body.reason)
    return commanded(response, result)


@moderation.post(
    "/{review_id}/restore",
    response_model=dict[str, str],
    responses={409: {"description": "not hidden"}},
)
def restore_review(
    review_id: UUID,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Moderator,
    body: RestoreIn | None = None,
) -> dict[str, str]:
    """Shows a hidden review again (a reason on the record is optional; no body at all will
    do); the ratings count it again. 409 if it is not hidden."""
    reason = body.reason if body else None
    result = fulfilment.moderate_review(ctx, review_id, confinement(principal), False, reason)
    return commanded(response, result)


@moderation.post(
    "/{review_id}/reply",
    status_code=201,
    response_model=dict[str, str],
    responses={409: {"description": "the seller has answered already"}},
)
def reply_to_review(
    review_id: UUID,
    body: ReplyIn,
    fulfilment: FulfilmentDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("reviews:reply"))],
) -> dict[str, str]:
    """The reviewed product's seller answers the review, once; it shows under the review."""
    result = fulfilment.reply_to_review(
        ctx, review_id, principal.tenant_id, acting_seller_id(principal), body.body
    )
    return commanded(response, result)
