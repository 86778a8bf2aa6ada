"""Product reviews by buyers whose order was delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
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
)
from api.policy import can_see_product
from api.problems import Problem
from api.security import Principal

router = APIRouter(prefix="/v1/products", tags=["reviews"])


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: UUID
    rating: int = Field(ge=1, le=5, strict=True)
    body: str = Field(default="", max_length=5000)


class ReviewOut(BaseModel):
    """A review as everyone in the tenant reads it: who wrote it and for which order stay out
    (buyers have no public name yet)."""

    id: str
    product_id: str
    rating: int
    body: str
    created_at: datetime


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
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """A product's reviews, oldest first."""
    product = catalog_queries.product(scope, str(product_id))
    if product is None or not can_see_product(
        principal.roles, str(acting_seller_id(principal)), product
    ):
        raise Problem(404, f"product {product_id} not found")
    page = catalog_queries.reviews(scope, str(product_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}
