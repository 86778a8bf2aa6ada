"""Shipping: each seller's rates (domain/shipping.py), and what a cart's sellers offer to ship
it to a country. Checkout takes the rate chosen for each seller (`POST /v1/checkout`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.deps import (
    Allowed,
    CartBuyer,
    CatalogQueriesDep,
    Ctx,
    Cursor,
    Limit,
    OrderQueriesDep,
    ReadAfter,
    Scope,
    SellersDep,
    acting_seller_id,
    commanded,
    no_content,
)
from api.problems import Problem
from api.schemas import AmountIn, MoneyIn, MoneyOut
from api.security import Principal

router = APIRouter(prefix="/v1", tags=["shipping"])
Itself = Annotated[Principal, Depends(Allowed("shipping:manage"))]


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, examples=["Standard"])
    countries: list[str] = Field(
        min_length=1, max_length=300, description="ISO 3166-1 alpha-2 codes", examples=[["DE"]]
    )
    price: AmountIn = Field(description="in the marketplace's currency; 0 ships free")
    free_over: MoneyIn | None = Field(
        default=None, description="free once the seller's items in a cart come to this much"
    )
    min_days: StrictInt = Field(ge=0, le=365)
    max_days: StrictInt = Field(ge=0, le=365)


class RateOut(BaseModel):
    id: str
    seller_id: str
    name: str
    countries: list[str]
    price: MoneyOut
    free_over: MoneyOut | None
    min_days: int
    max_days: int


class RatePage(BaseModel):
    items: list[RateOut]
    next_cursor: str | None


class ShippingOptionOut(BaseModel):
    rate_id: str
    name: str
    price: MoneyOut = Field(description="for this seller's items in the cart (0 from free_over)")
    min_days: int
    max_days: int


class GroupOut(BaseModel):
    seller_id: str
    rate_required: bool = Field(
        description="the seller has rates, so checkout needs one of `options` (none: it "
        "cannot ship to that country); false: it ships at no charge"
    )
    options: list[ShippingOptionOut]


class OptionsOut(BaseModel):
    groups: list[GroupOut]


def _itself(principal: Principal, seller_id: UUID) -> None:
    if acting_seller_id(principal) != seller_id:
        raise Problem(404, f"seller {seller_id} not found")


@router.post("/sellers/{seller_id}/shipping-rates", status_code=201, response_model=dict[str, str])
def add_rate(
    seller_id: UUID,
    body: RateIn,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Itself,
) -> dict[str, str]:
    """Adds a shipping rate of the calling seller: where it ships, for how much (free from
    `free_over` of its items in a cart), in how many days. Once a seller has rates, checkout
    needs one of them for the address's country."""
    _itself(principal, seller_id)
    result = sellers.add_shipping_rate(
        ctx,
        seller_id,
        name=body.name,
        countries=body.countries,
        price=body.price.money(),
        free_over=body.free_over.money() if body.free_over else None,
        min_days=body.min_days,
        max_days=body.max_days,
    )
    return commanded(response, result)


@router.get(
    "/sellers/{seller_id}/shipping-rates",
    response_model=RatePage,
    dependencies=[Depends(ReadAfter("sellers"))],
)
def list_rates(
    seller_id: UUID,
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("shipping:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """A seller's shipping rates, oldest first (another tenant's seller: 404, as unknown)."""
    if catalog_queries.seller(scope, str(seller_id)) is None:
        raise Problem(404, f"seller {seller_id} not found")
    page = catalog_queries.shipping_rates(scope, str(seller_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.delete("/sellers/{seller_id}/shipping-rates/{rate_id}", status_code=204)
def remove_rate(
    seller_id: UUID, rate_id: UUID, sellers: SellersDep, ctx: Ctx, principal: Itself
) -> Response:
    """Removes a rate: checkouts from now on cannot choose it; orders keep what they had."""
    _itself(principal, seller_id)
    return no_content(sellers.remove_shipping_rate(ctx, seller_id, rate_id))


@router.get(
    "/carts/{cart_id}/shipping-options",
    response_model=OptionsOut,
    dependencies=[Depends(ReadAfter("carts", "catalog", "sellers"))],
)
def shipping_options(
    cart_id: UUID,
    order_queries: OrderQueriesDep,
    scope: Scope,
    buyer: CartBuyer,
    country: Annotated[str, Query(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2")],
) -> dict[str, Any]:
    """Per seller in the cart, the rates that ship to `country`, each priced for that seller's
    items in the cart (0 once they reach its `free_over`). For the cart's buyer, or a guest
    with its cart token."""
    options = order_queries.shipping_options(scope, str(cart_id), str(buyer), country)
    if options is None:
        raise Problem(404, f"cart {cart_id} not found")
    return options
