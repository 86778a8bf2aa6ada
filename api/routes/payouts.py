"""Payouts to sellers, and what each seller is owed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict

from api import workflows
from api.deps import (
    POSITION_HEADER,
    Allowed,
    ContainerDep,
    Ctx,
    Cursor,
    Limit,
    ReadAfter,
    Scope,
    acting_seller_id,
)
from api.policy import is_admin
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal

router = APIRouter(prefix="/v1", tags=["payouts"])


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: UUID | None = None


class PayoutSummary(BaseModel):
    id: str
    seller_id: str
    amount: MoneyOut


class RunOut(BaseModel):
    payouts: list[PayoutSummary]


class PayoutOut(BaseModel):
    id: str
    tenant_id: str
    seller_id: str
    amount: MoneyOut
    receivable_netted: MoneyOut
    status: str
    created_at: datetime


class PayoutPage(BaseModel):
    items: list[PayoutOut]
    next_cursor: str | None


class BalanceOut(BaseModel):
    in_escrow: MoneyOut
    available: MoneyOut
    paid_out: MoneyOut


@router.post("/payouts/run", status_code=201, response_model=RunOut)
def run_payouts(
    container: ContainerDep,
    ctx: Ctx,
    scope: Scope,
    response: Response,
    _: Annotated[Principal, Depends(Allowed("payouts:run"))],
    body: RunIn | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Pays every approved seller its available balance (its payable, net of its receivable).
    A run with the same Idempotency-Key pays nobody twice."""
    if body and body.tenant_id:
        scope = scope.narrowed_to(body.tenant_id)
    made, position = workflows.run_payouts(container, ctx, scope, idempotency_key or str(uuid4()))
    response.headers[POSITION_HEADER] = str(position)
    return {
        "payouts": [
            {"id": str(p.id), "seller_id": str(p.seller_id), "amount": p.amount.as_dict()}
            for p in made
        ]
    }


@router.get("/payouts", response_model=PayoutPage, dependencies=[Depends(ReadAfter("ledger"))])
def list_payouts(
    container: ContainerDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("payouts:read"))],
    seller_id: UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Payouts with their status: a seller's own, or any for finance."""
    own = None if is_admin(principal.roles) else str(acting_seller_id(principal))
    if own is not None and seller_id is not None and str(seller_id) != own:
        raise Problem(404, f"seller {seller_id} not found")
    page = container.ledger_queries.payouts(
        scope, seller_id=own or (str(seller_id) if seller_id else None), limit=limit, cursor=cursor
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/sellers/{seller_id}/balance",
    response_model=BalanceOut,
    dependencies=[Depends(ReadAfter("ledger", "sellers"))],
)
def seller_balance(
    seller_id: UUID,
    container: ContainerDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("payouts:read"))],
) -> dict[str, Any]:
    """What is in escrow toward the seller, available to pay out, and paid out so far."""
    seller = container.catalog_queries.seller(scope, str(seller_id))
    mine = seller is not None and (
        is_admin(principal.roles) or str(acting_seller_id(principal)) == str(seller_id)
    )
    if seller is None or not mine:
        raise Problem(404, f"seller {seller_id} not found")
    tenant = container.identity_queries.tenant(scope, seller["tenant_id"])
    assert tenant is not None
    return container.ledger_queries.seller_balance(scope, str(seller_id), tenant["currency"])
