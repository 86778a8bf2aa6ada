"""Promotions (API.md v1.2 "Promotions"): made and ended by a marketplace's admin or, for its own
and funded by itself, a seller; codes applied to carts. Checkout applies them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from api.deps import (
    READ_WAIT_S,
    Allowed,
    CartBuyer,
    CheckoutDep,
    Ctx,
    Cursor,
    Limit,
    OrderQueriesDep,
    PromotionQueriesDep,
    PromotionsDep,
    ReadAfter,
    ReadStoreDep,
    Scope,
    acting_seller_id,
    commanded,
    confinement,
)
from api.policy import acts_as_seller
from api.problems import Problem
from api.routes.auth import IdResponse
from api.routes.carts import CartOut
from api.schemas import AmountIn, MoneyIn, MoneyOut
from api.security import Principal
from projections.orders.queries import OrderQueries
from projections.orders.views import discounts_view
from projections.scope import TenantScope
from projections.store import ReadStore
from services.carts import CartPromotions

router = APIRouter(tags=["promotions"])

Manager = Annotated[Principal, Depends(Allowed("promotions:manage"))]


class PromotionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="none: it applies by itself to every cart it fits",
    )
    kind: Literal["percent", "amount", "free_shipping"]
    value: StrictInt | MoneyIn | None = Field(
        default=None,
        description="a whole percentage 1-100 (percent), money (amount), absent (free_shipping)",
    )
    funded_by: Literal["platform", "seller"]
    seller_id: UUID | None = Field(default=None, description="only this seller's lines")
    product_ids: list[UUID] | None = Field(default=None, max_length=1000)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    min_subtotal: AmountIn | None = Field(
        default=None, description="the lines it fits must come to at least this"
    )
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    usage_limit: StrictInt | None = Field(default=None, ge=1, le=10**9)
    per_buyer_limit: StrictInt | None = Field(default=None, ge=1, le=10**9)

    def terms(self) -> dict[str, Any]:
        """The terms as the domain takes them (domain/promotions.py `Terms`)."""
        for when in (self.starts_at, self.ends_at):
            if when is not None and when.tzinfo is None:
                raise _invalid("starts_at", "a time with its zone, e.g. 2026-12-24T00:00:00Z")
        percent = amount = None
        if self.kind == "percent":
            if not isinstance(self.value, int):
                raise _invalid("value", "a percent promotion's value is a whole 1 to 100")
            percent = self.value
        elif self.kind == "amount":
            if not isinstance(self.value, MoneyIn):
                raise _invalid("value", "an amount promotion's value is money")
            amount = self.value
        elif self.value is not None:
            raise _invalid("value", "a free_shipping promotion has no value")
        return {
            "code": self.code,
            "kind": self.kind,
            "percent": percent,
            "amount": amount.money() if amount else None,
            "funded_by": self.funded_by,
            "seller_id": self.seller_id,
            "product_ids": self.product_ids,
            "category": self.category,
            "min_subtotal": self.min_subtotal.money() if self.min_subtotal else None,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "usage_limit": self.usage_limit,
            "per_buyer_limit": self.per_buyer_limit,
        }


def _invalid(field: str, msg: str) -> Problem:
    return Problem(422, msg, errors=[{"loc": ["body", field], "msg": msg}])


class PromotionOut(BaseModel):
    id: str
    tenant_id: str
    code: str | None
    kind: str
    value: int | MoneyOut | None
    funded_by: str
    seller_id: str | None
    product_ids: list[str]
    category: str | None
    min_subtotal: MoneyOut | None
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_buyer_limit: int | None
    uses: int = Field(description="uses its limits count (orders placed, less those cancelled)")
    status: str = Field(description="active, scheduled, used_up or ended")
    created_at: datetime


class PromotionPage(BaseModel):
    items: list[PromotionOut]
    next_cursor: str | None


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)


def _seller(principal: Principal) -> UUID | None:
    return acting_seller_id(principal) if acts_as_seller(principal.roles) else None


@router.post("/v1/promotions", status_code=201, response_model=IdResponse)
def create_promotion(
    body: PromotionIn,
    promotions: PromotionsDep,
    ctx: Ctx,
    response: Response,
    principal: Manager,
) -> dict[str, str]:
    """Makes a promotion: a marketplace admin any, a seller its own, funded by itself. A code
    is one running promotion's at a time (409 while another runs)."""
    result = promotions.create(
        ctx,
        principal.tenant_id,
        confinement(principal),
        acting_seller=_seller(principal),
        created_by=principal.user_id,
        terms=body.terms(),
    )
    return commanded(response, result)


@router.get(
    "/v1/promotions", response_model=PromotionPage, dependencies=[Depends(ReadAfter("promotions"))]
)
def list_promotions(
    queries: PromotionQueriesDep,
    scope: Scope,
    principal: Manager,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The tenant's promotions, oldest first; a seller's own only."""
    seller = _seller(principal)
    page = queries.page(
        scope, seller_id=str(seller) if seller else None, limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/v1/promotions/{promotion_id}/end", response_model=IdResponse)
def end_promotion(
    promotion_id: UUID,
    promotions: PromotionsDep,
    ctx: Ctx,
    response: Response,
    principal: Manager,
) -> dict[str, str]:
    """Ends a promotion now: no checkout uses it from then on, and its code is free again."""
    result = promotions.end(
        ctx, promotion_id, confinement(principal), acting_seller=_seller(principal)
    )
    return commanded(response, result)


def _cart(
    changed: CartPromotions,
    cart_id: UUID,
    buyer: UUID,
    reads: tuple[OrderQueries, ReadStore, TenantScope],
    response: Response,
) -> dict[str, Any]:
    """The cart as the command left it: its lines from the read model once it has the command
    (a client reads its own write), its codes and discounts as the command found them."""
    queries, read_store, scope = reads
    commanded(response, changed.result)
    if not read_store.wait_for(changed.result.position, ("carts", "catalog"), READ_WAIT_S):
        raise Problem(
            503, "the cart's read model is behind; try again", headers={"Retry-After": "1"}
        )
    cart = queries.cart(scope, str(cart_id), str(buyer))
    if cart is None:
        raise Problem(404, f"cart {cart_id} not found")
    currency = next((t["currency"] for t in cart["totals"]), None)
    return {
        **cart,
        "codes": list(changed.codes),
        "discounts": discounts_view(changed.discounts, currency),
    }


@router.post(
    "/v1/carts/{cart_id}/promotions",
    response_model=CartOut,
    dependencies=[Depends(ReadAfter("carts", "catalog"))],
    responses={404: {"description": "no running promotion has the code"}},
)
def apply_code(
    cart_id: UUID,
    body: CodeIn,
    checkout: CheckoutDep,
    order_queries: OrderQueriesDep,
    read_store: ReadStoreDep,
    scope: Scope,
    ctx: Ctx,
    response: Response,
    buyer: CartBuyer,
) -> dict[str, Any]:
    """Applies a promotion's code to the cart and answers the cart with what every promotion
    takes off it now. 404: no running promotion has the code; 409: it has not started, has
    ended, is used up, or nothing in the cart fits it."""
    changed = checkout.apply_code(ctx, cart_id, buyer, body.code)
    return _cart(changed, cart_id, buyer, (order_queries, read_store, scope), response)


@router.delete(
    "/v1/carts/{cart_id}/promotions/{code}",
    response_model=CartOut,
    dependencies=[Depends(ReadAfter("carts", "catalog"))],
)
def remove_code(
    cart_id: UUID,
    code: str,
    checkout: CheckoutDep,
    order_queries: OrderQueriesDep,
    read_store: ReadStoreDep,
    scope: Scope,
    ctx: Ctx,
    response: Response,
    buyer: CartBuyer,
) -> dict[str, Any]:
    """Removes a code from the cart (404 if it has none such)."""
    changed = checkout.remove_code(ctx, cart_id, buyer, code)
    return _cart(changed, cart_id, buyer, (order_queries, read_store, scope), response)
