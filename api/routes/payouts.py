"""Payouts to sellers, and what each seller is owed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    POSITION_HEADER,
    Allowed,
    CatalogQueriesDep,
    Ctx,
    Cursor,
    IdentityQueriesDep,
    LedgerQueriesDep,
    Limit,
    OrderQueriesDep,
    PayoutRunsDep,
    ReadAfter,
    Scope,
    acting_seller_id,
    visible_seller,
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
    status: str


class SkippedOut(BaseModel):
    seller_id: str
    reason: str


class RunOut(BaseModel):
    payouts: list[PayoutSummary]
    skipped: list[SkippedOut]


class PayoutOut(BaseModel):
    id: str
    tenant_id: str
    seller_id: str
    amount: MoneyOut
    receivable_netted: MoneyOut
    status: str
    failure_reason: str | None
    created_at: datetime


class PayoutPage(BaseModel):
    items: list[PayoutOut]
    next_cursor: str | None


class PlanFeeOut(BaseModel):
    id: str
    name: str
    period: str = Field(description="the month, YYYY-MM (UTC)")
    charged: MoneyOut
    credited: MoneyOut


class EarningsLine(BaseModel):
    kind: str = Field(description="seller_order, or plan_fee (then status says what happened)")
    seller_order_id: str | None
    order_id: str | None
    status: str
    escrow_status: str
    gross: MoneyOut
    commission: MoneyOut
    refunds: MoneyOut
    disputes: MoneyOut = Field(description="what lost disputes took back")
    dispute_fees: MoneyOut = Field(description="the fees of lost disputes the seller bore")
    dispute_status: str = Field(description="none, open, won or lost")
    net: MoneyOut
    paid_out: MoneyOut
    release_due_at: datetime | None
    released_at: datetime | None
    created_at: datetime
    plan: PlanFeeOut | None = Field(description="for a plan_fee line: the plan and its amounts")


class EarningsPage(BaseModel):
    items: list[EarningsLine]
    next_cursor: str | None


class BalanceOut(BaseModel):
    in_escrow: MoneyOut
    available: MoneyOut
    in_dispute: MoneyOut = Field(
        description="the seller's net that open disputes hold, in escrow or in its reserve"
    )
    paid_out: MoneyOut


@router.post("/payouts/run", status_code=201, response_model=RunOut)
def run_payouts(
    payout_runs: PayoutRunsDep,
    ctx: Ctx,
    scope: Scope,
    response: Response,
    _: Annotated[Principal, Depends(Allowed("payouts:run"))],
    body: RunIn | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Pays every approved seller its available balance (its payable, net of its receivable)
    when it reaches the tenant's minimum payout. A payout stays `pending` while the provider
    cannot be reached, and the next run asks again; `failed` when the provider refused it, and
    its money is available again. A run with the same Idempotency-Key pays nobody twice."""
    if body and body.tenant_id:
        scope = scope.narrowed_to(body.tenant_id)
    run = payout_runs.run(ctx, scope, idempotency_key or str(uuid4()))
    response.headers[POSITION_HEADER] = str(run.position)
    return {
        "payouts": [
            {
                "id": str(p.id),
                "seller_id": str(p.seller_id),
                "amount": p.amount.as_json(),
                "status": p.status,
            }
            for p in run.made
        ],
        "skipped": [{"seller_id": str(s.seller_id), "reason": s.reason} for s in run.skipped],
    }


@router.get("/payouts", response_model=PayoutPage, dependencies=[Depends(ReadAfter("ledger"))])
def list_payouts(
    ledger_queries: LedgerQueriesDep,
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
    page = ledger_queries.payouts(
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
    catalog_queries: CatalogQueriesDep,
    identity_queries: IdentityQueriesDep,
    ledger_queries: LedgerQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("payouts:read"))],
) -> dict[str, Any]:
    """What is in escrow toward the seller, available to pay out, and paid out so far."""
    seller = visible_seller(catalog_queries, scope, principal, seller_id)
    tenant = identity_queries.tenant(scope, seller["tenant_id"])
    assert tenant is not None
    return ledger_queries.seller_balance(scope, str(seller_id), tenant["currency"])


@router.get(
    "/sellers/{seller_id}/earnings",
    response_model=EarningsPage,
    dependencies=[Depends(ReadAfter("orders", "sellers"))],
)
def seller_earnings(
    seller_id: UUID,
    catalog_queries: CatalogQueriesDep,
    order_queries: OrderQueriesDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("payouts:read"))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The seller's earnings statement, oldest first: one line per paid seller order (gross,
    commission after reversals, refunds, net = gross - refunds - commission, what payouts have
    paid of it, when escrow is or was released), and one per plan fee charged or credited back
    (`kind: plan_fee`, net = credited - charged)."""
    visible_seller(catalog_queries, scope, principal, seller_id)
    page = order_queries.earnings(scope, str(seller_id), limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}
