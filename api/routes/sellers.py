"""Sellers: onboarding by seller users, moderation by marketplace admins."""

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
    Limit,
    ReadAfter,
    Scope,
    SellersDep,
    acting_seller_id,
    commanded,
    confinement,
    visible_seller,
)
from api.policy import is_admin, is_guest
from api.problems import Problem
from api.schemas import WithId
from api.security import Principal
from eventstore.application import CommandResult

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])


class SellerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str = Field(min_length=1, max_length=200)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 alpha-2, e.g. DE")


class SellerStatusOut(BaseModel):
    id: str
    status: str


class CommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commission_bps: int | None = Field(ge=0, le=10_000, description="null: tenant default")


class PayoutAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_id: str = Field(
        min_length=3,
        max_length=255,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the seller's account at the payment provider, e.g. a Stripe acct_...",
    )


class SellerRatingOut(BaseModel):
    average: float | None = Field(description="over its products' visible reviews; null: none")
    count: int
    distribution: dict[str, int] = Field(description="reviews per star, '1' to '5'")


class SellerPlanOut(BaseModel):
    id: str
    name: str
    since: datetime


class SellerOut(WithId):
    id_was = "seller_id"
    seller_id: str = Field(description="the same as id (an alias kept until v2)")
    tenant_id: str
    user_id: str
    display_name: str
    country: str
    status: str
    commission_bps: int | None
    payout_account: str | None
    created_at: datetime
    rating: SellerRatingOut
    plan: SellerPlanOut | None = Field(description="the plan the seller is on; null: none")


class SellerPage(BaseModel):
    items: list[SellerOut]
    next_cursor: str | None


class PublicSellerOut(BaseModel):
    """A seller as a guest (a publishable key, no token) sees it, and nothing more: never its
    status, user, payout account, commission or plan."""

    id: str
    display_name: str
    rating: SellerRatingOut


def _status(response: Response, result: CommandResult, status: str) -> dict[str, str]:
    return {**commanded(response, result), "status": status}


@router.post("", status_code=201, response_model=SellerStatusOut)
def create_seller(
    body: SellerCreate,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("sellers:create"))],
) -> dict[str, str]:
    """Creates the calling seller user's seller profile, pending approval. The user then acts for
    this seller."""
    result = sellers.register_seller(
        ctx,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        display_name=body.display_name,
        country=body.country,
        acting_for=principal.organisation_id,  # a marketplace token's seller exists already
    )
    return _status(response, result, "pending")


def _moderate(action: str) -> Any:
    def moderate(
        seller_id: UUID,
        sellers: SellersDep,
        ctx: Ctx,
        response: Response,
        principal: Annotated[Principal, Depends(Allowed("sellers:moderate"))],
    ) -> dict[str, str]:
        changed = getattr(sellers, action)(ctx, seller_id, confinement(principal))
        return _status(response, changed.result, changed.status)

    moderate.__doc__ = {
        "approve": "Approves a pending seller, or reinstates a suspended one.",
        "reject": "Rejects a pending seller.",
        "suspend": "Suspends an approved seller: its products leave sale until reinstated.",
    }[action]
    return moderate


for _action in ("approve", "reject", "suspend"):
    router.add_api_route(
        f"/{{seller_id}}/{_action}",
        _moderate(_action),
        methods=["POST"],
        response_model=SellerStatusOut,
        name=f"{_action}_seller",
    )


@router.put("/{seller_id}/commission", response_model=SellerStatusOut)
def set_seller_commission(
    seller_id: UUID,
    body: CommissionIn,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("commission:set"))],
) -> dict[str, str]:
    """Overrides the tenant's commission rate for this seller (null restores the default)."""
    changed = sellers.set_commission(ctx, seller_id, confinement(principal), body.commission_bps)
    return _status(response, changed.result, changed.status)


@router.put("/{seller_id}/payout-account", response_model=SellerStatusOut)
def set_payout_account(
    seller_id: UUID,
    body: PayoutAccountIn,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("sellers:payout_account"))],
) -> dict[str, str]:
    """Names the account payouts go to: the seller's own, or any seller's for its admin."""
    by_itself = not is_admin(principal.roles)
    if by_itself and acting_seller_id(principal) != seller_id:
        raise Problem(404, f"seller {seller_id} not found")
    changed = sellers.set_payout_account(
        ctx, seller_id, confinement(principal), body.account_id, by_itself=by_itself
    )
    return _status(response, changed.result, changed.status)


@router.get(
    "/{seller_id}",
    response_model=SellerOut | PublicSellerOut,
    dependencies=[Depends(ReadAfter("sellers"))],
)
def get_seller(
    seller_id: UUID,
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("sellers:profile"))],
) -> dict[str, Any]:
    """A seller's profile and status: for admins, and for the seller itself. A guest (a
    publishable key, no token) gets the public profile `{id, display_name, rating}` of a seller
    whose products are on sale; any other seller is unknown to it (404)."""
    seller = visible_seller(catalog_queries, scope, principal, seller_id)
    if is_guest(principal.roles):
        return {k: seller[f] for k, f in PUBLIC_SELLER_FIELDS.items()}
    return seller


# What a guest sees of a seller: each public field and the view's field it comes from.
PUBLIC_SELLER_FIELDS = {"id": "seller_id", "display_name": "display_name", "rating": "rating"}


@router.get("", response_model=SellerPage, dependencies=[Depends(ReadAfter("sellers"))])
def list_sellers(
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("sellers:read"))],
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|suspended)$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Sellers in creation order; a seller user sees only itself."""
    only = None if is_admin(principal.roles) else str(acting_seller_id(principal))
    page = catalog_queries.sellers(scope, status=status, only=only, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


class StockAlertOut(BaseModel):
    id: str
    product_id: str
    warehouse: str
    threshold: int
    available: int
    raised_at: datetime


class StockAlertPage(BaseModel):
    items: list[StockAlertOut]
    next_cursor: str | None


@router.get(
    "/{seller_id}/alerts",
    response_model=StockAlertPage,
    dependencies=[Depends(ReadAfter("catalog"))],
)
def stock_alerts(
    seller_id: UUID,
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("sellers:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The stock alerts the seller's products raised (PUT /v1/products/{id}/stock-alert sets
    them), oldest first: for the seller itself and its marketplace's admins."""
    visible_seller(catalog_queries, scope, principal, seller_id)
    page = catalog_queries.stock_alerts(scope, str(seller_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}
