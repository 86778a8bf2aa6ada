"""Seller plans: defined by each marketplace's admins, chosen and left by its sellers
(domain/plans.py says how they are billed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
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
)
from api.problems import Problem
from api.schemas import AmountIn, MoneyOut
from api.security import Principal
from domain.money import Money
from domain.plans import MAX_PRODUCT_LIMIT, month_of
from services.sellers import PlanChange

router = APIRouter(tags=["plans"])
Itself = Annotated[Principal, Depends(Allowed("sellers:plan"))]


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60, description="unique in the tenant, any case")
    monthly_fee: AmountIn = Field(description="in the tenant's currency; 0 for a free plan")
    product_limit: int | None = Field(
        ge=0, le=MAX_PRODUCT_LIMIT, description="products a seller may have; null: no limit"
    )
    commission_discount_bps: int = Field(
        ge=0, le=10_000, description="subtracted from the rate that would apply, never below 0"
    )


class PlanOut(BaseModel):
    id: str
    tenant_id: str
    name: str
    monthly_fee: MoneyOut
    product_limit: int | None
    commission_discount_bps: int
    subscribers: int
    created_at: datetime


class PlanPage(BaseModel):
    items: list[PlanOut]
    next_cursor: str | None


class ChoosePlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan_id: UUID


class PlanChangeOut(BaseModel):
    seller_id: str
    plan_id: str | None = Field(description="the plan the seller is on now; null: none")
    charged: MoneyOut = Field(description="charged now: the new plan for the rest of the month")
    credited: MoneyOut = Field(description="given back now: what the old plan had left unused")
    effective_at: datetime = Field(description="the moment the change took effect")
    period_end: datetime = Field(description="when this month ends and the next is charged")


@router.post(
    "/v1/plans",
    status_code=201,
    response_model=dict[str, str],
    responses={409: {"description": "the tenant has a plan of that name"}},
)
def define_plan(
    body: PlanIn,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("plans:manage"))],
) -> dict[str, str]:
    """Defines a plan sellers may choose. Its terms never change: a different price is a new
    plan, so what a seller subscribed to is what it pays."""
    result = sellers.define_plan(
        ctx,
        principal.tenant_id,
        name=body.name,
        monthly_fee=body.monthly_fee.money(),
        product_limit=body.product_limit,
        commission_discount_bps=body.commission_discount_bps,
    )
    return commanded(response, result)


@router.get("/v1/plans", response_model=PlanPage, dependencies=[Depends(ReadAfter("sellers"))])
def list_plans(
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("plans:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The marketplace's plans, oldest first, with how many sellers are on each."""
    page = catalog_queries.plans(scope, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/v1/plans/{plan_id}", response_model=PlanOut, dependencies=[Depends(ReadAfter("sellers"))]
)
def get_plan(
    plan_id: UUID,
    catalog_queries: CatalogQueriesDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("plans:read"))],
) -> dict[str, Any]:
    """One plan."""
    plan = catalog_queries.plan(scope, str(plan_id))
    if plan is None:
        raise Problem(404, f"plan {plan_id} not found")
    return plan


def _itself(principal: Principal, seller_id: UUID) -> None:
    if acting_seller_id(principal) != seller_id:
        raise Problem(404, f"seller {seller_id} not found")


def _changed(response: Response, change: PlanChange, now: datetime) -> dict[str, Any]:
    commanded(response, change.result)
    plan, currency = change.seller.plan, change.billed.currency
    return {
        "seller_id": str(change.seller.id),
        "plan_id": str(plan.plan_id) if plan else None,
        "charged": Money(change.billed.charged, currency).as_json(),
        "credited": Money(change.billed.credited, currency).as_json(),
        "effective_at": now,
        "period_end": month_of(now)[2],
    }


@router.put(
    "/v1/sellers/{seller_id}/plan",
    response_model=PlanChangeOut,
    responses={409: {"description": "the seller has more products than the plan allows"}},
)
def choose_plan(
    seller_id: UUID,
    body: ChoosePlanIn,
    sellers: SellersDep,
    ctx: Ctx,
    response: Response,
    principal: Itself,
) -> dict[str, Any]:
    """Puts the seller on a plan, or moves it to another. Billed in advance by calendar month
    (UTC), pro rata to the second: the new plan's fee for the rest of this month is charged to
    the seller's balance (netted at its next payout), and what the old plan had left is credited
    back. Choosing the plan it is on changes nothing. The discount applies to checkouts from now
    on; the product limit counts every product but rejected ones."""
    _itself(principal, seller_id)
    now = datetime.now(UTC)
    return _changed(response, sellers.subscribe(ctx, seller_id, body.plan_id, now), now)


@router.delete(
    "/v1/sellers/{seller_id}/plan",
    response_model=PlanChangeOut,
    responses={409: {"description": "the seller is on no plan"}},
)
def leave_plan(
    seller_id: UUID, sellers: SellersDep, ctx: Ctx, response: Response, principal: Itself
) -> dict[str, Any]:
    """Ends the seller's plan now; the unused part of this month's fee is credited back."""
    _itself(principal, seller_id)
    now = datetime.now(UTC)
    return _changed(response, sellers.cancel_plan(ctx, seller_id, now), now)
