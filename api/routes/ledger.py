"""The ledger, for finance and audit: balances, statements and the trial balance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from api.deps import Allowed, Cursor, LedgerQueriesDep, Limit, ReadAfter, Scope
from api.schemas import MoneyOut
from api.security import Principal
from projections.scope import TenantScope

router = APIRouter(
    prefix="/v1/ledger", tags=["ledger"], dependencies=[Depends(ReadAfter("ledger"))]
)
Reader = Annotated[Principal, Depends(Allowed("ledger:read"))]
TenantFilter = Annotated[UUID | None, Query(description="narrow to one tenant")]
CurrencyFilter = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")]


class AccountOut(BaseModel):
    tenant_id: str
    code: str
    type: str
    balance: MoneyOut
    debits_posted: MoneyOut
    credits_posted: MoneyOut
    debits_pending: MoneyOut
    credits_pending: MoneyOut


class AccountList(BaseModel):
    items: list[AccountOut]


class EntryOut(BaseModel):
    tenant_id: str
    position: int
    side: str
    amount: MoneyOut
    transfer_id: str
    transfer_key: str | None
    kind: str | None
    at: datetime


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class TrialBalance(BaseModel):
    debits: list[MoneyOut]
    credits: list[MoneyOut]
    balanced: bool


def _narrow(scope: TenantScope, tenant_id: UUID | None) -> TenantScope:
    return scope if tenant_id is None else scope.narrowed_to(tenant_id)


@router.get("/accounts", response_model=AccountList)
def accounts(
    ledger_queries: LedgerQueriesDep,
    scope: Scope,
    _: Reader,
    tenant_id: TenantFilter = None,
    currency: CurrencyFilter = None,
) -> dict[str, Any]:
    """Every ledger account with its posted balance on its normal side, and its pending amounts;
    a hot account's shards are summed into one."""
    return {"items": ledger_queries.accounts(_narrow(scope, tenant_id), currency=currency)}


@router.get("/accounts/{code}/entries", response_model=EntryPage)
def entries(
    code: Annotated[str, Path(min_length=1, max_length=120)],
    ledger_queries: LedgerQueriesDep,
    scope: Scope,
    _: Reader,
    tenant_id: TenantFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """An account's statement, oldest first: each posted movement and the transfer behind it."""
    page = ledger_queries.entries(_narrow(scope, tenant_id), code, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/trial-balance", response_model=TrialBalance)
def trial_balance(
    ledger_queries: LedgerQueriesDep, scope: Scope, _: Reader, tenant_id: TenantFilter = None
) -> dict[str, Any]:
    """Posted debits and credits over every account, per currency, and whether they balance."""
    return ledger_queries.trial_balance(_narrow(scope, tenant_id))
