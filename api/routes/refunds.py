"""Refunds: requested by the buyer (or an admin), decided by the seller (or an admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    Allowed,
    Ctx,
    OrderQueriesDep,
    ReadAfter,
    RefundsDep,
    Scope,
    acting_seller_id,
    commanded,
    confined_buyer,
    confined_seller,
    confinement,
)
from api.policy import is_admin
from api.problems import Problem
from api.schemas import MoneyIn, MoneyOut
from api.security import Principal

router = APIRouter(prefix="/v1/refunds", tags=["refunds"])


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seller_order_id: UUID
    amount: MoneyIn | None = Field(default=None, description="default: all still refundable")
    reason: str = Field(min_length=1, max_length=1000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=1000)


class RefundCreated(BaseModel):
    id: str
    status: str
    amount: MoneyOut


class RefundStatus(BaseModel):
    id: str
    status: str


class RefundOut(BaseModel):
    id: str
    tenant_id: str
    seller_order_id: str
    order_id: str
    buyer_id: str
    seller_id: str
    amount: MoneyOut
    reason: str
    status: str
    from_escrow: bool | None
    commission_reversed: MoneyOut | None
    provider_refund_id: str | None
    created_at: datetime
    updated_at: datetime


Decider = Annotated[Principal, Depends(Allowed("refunds:decide"))]


@router.post("", status_code=201, response_model=RefundCreated)
def request_refund(
    body: RefundIn,
    refunds: RefundsDep,
    ctx: Ctx,
    response: Response,
    principal: Annotated[Principal, Depends(Allowed("refunds:request"))],
) -> dict[str, Any]:
    """Asks for money back on a seller order; the amount defaults to what remains refundable."""
    result, amount = refunds.request(
        ctx,
        seller_order_id=body.seller_order_id,
        within=confinement(principal),
        buyer_id=confined_buyer(principal),
        amount=body.amount.money() if body.amount else None,
        reason=body.reason,
    )
    return {**commanded(response, result), "status": "requested", "amount": amount.as_json()}


@router.post("/{refund_id}/approve", response_model=RefundStatus)
def approve_refund(
    refund_id: UUID, refunds: RefundsDep, ctx: Ctx, response: Response, principal: Decider
) -> dict[str, str]:
    """Approves a refund: paid back through the payment provider, out of escrow while it is
    held, else charged back to the seller's balance. Commission is reversed pro rata."""
    result = refunds.approve(
        ctx, refund_id, within=confinement(principal), seller_id=confined_seller(principal)
    )
    return {**commanded(response, result), "status": "approved"}


@router.post("/{refund_id}/reject", response_model=RefundStatus)
def reject_refund(
    refund_id: UUID,
    refunds: RefundsDep,
    ctx: Ctx,
    response: Response,
    principal: Decider,
    body: DecisionIn | None = None,
) -> dict[str, str]:
    """Rejects a refund request; the amount becomes refundable again."""
    result = refunds.reject(
        ctx,
        refund_id,
        within=confinement(principal),
        seller_id=confined_seller(principal),
        reason=body.reason if body else "",
    )
    return {**commanded(response, result), "status": "rejected"}


@router.get("/{refund_id}", response_model=RefundOut, dependencies=[Depends(ReadAfter("orders"))])
def get_refund(
    refund_id: UUID,
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("refunds:read"))],
) -> dict[str, Any]:
    """A refund and its outcome: for its buyer, its seller and admins."""
    refund = order_queries.refund(scope, str(refund_id))
    mine = refund is not None and (
        is_admin(principal.roles)
        or refund["buyer_id"] == str(principal.user_id)
        or refund["seller_id"] == str(acting_seller_id(principal))
    )
    if refund is None or not mine:
        raise Problem(404, f"refund {refund_id} not found")
    return refund
