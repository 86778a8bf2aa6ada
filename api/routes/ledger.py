"""The ledger, for finance and audit: balances, statements and the trial balance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import (
    Allowed,
    Cursor,
    IdentityQueriesDep,
    LedgerQueriesDep,
    Limit,
    ReadAfter,
    Scope,
)
from api.policy import crosses_tenants
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal
from domain.times import as_text
from projections.scope import TenantScope

MAX_JOURNAL_DAYS = 3660
JSON_SECTIONS = {"opening": "opening", "line": "lines", "closing": "closing"}
JOURNAL_COLUMNS = (
    "record",
    "date",
    "at",
    "position",
    "transfer_id",
    "account",
    "type",
    "debit",
    "credit",
    "currency",
    "memo",
    "order_id",
    "seller_id",
)

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


@router.get(
    "/journal",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
    response_class=StreamingResponse,
)
def journal(
    ledger_queries: LedgerQueriesDep,
    identity_queries: IdentityQueriesDep,
    scope: Scope,
    principal: Reader,
    start: Annotated[date, Query(alias="from", description="first day, UTC (inclusive)")],
    end: Annotated[date, Query(alias="to", description="last day, UTC (inclusive)")],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    tenant_id: Annotated[
        UUID | None, Query(description="which marketplace, for the roles that cross tenants")
    ] = None,
) -> StreamingResponse:
    """The double-entry journal of a marketplace's ledger for whole UTC days: each account's
    opening balance, every posted movement as a journal line (date, transfer, account, debit,
    credit, currency, memo, order and seller), and each account's closing balance; debits and
    credits in minor units, a balance on the side it stands. Streamed as it is read.
    docs/ledger.md describes the columns for import into an accounting system."""
    if end < start or (end - start).days >= MAX_JOURNAL_DAYS:
        raise Problem(
            422,
            f"`to` must be on or after `from`, and the range at most {MAX_JOURNAL_DAYS} days",
            errors=[{"loc": ["query", "to"], "msg": "invalid range"}],
        )
    if tenant_id is None:
        if crosses_tenants(principal.roles):
            raise Problem(
                422,
                "name the marketplace whose journal you want",
                errors=[{"loc": ["query", "tenant_id"], "msg": "required for your role"}],
            )
        tenant_id = principal.tenant_id
    if identity_queries.tenant(scope, str(tenant_id)) is None:
        raise Problem(404, f"tenant {tenant_id} not found")
    records = ledger_queries.journal(scope.narrowed_to(tenant_id), start, end)
    if format == "csv":
        name = f"journal-{start}-{end}.csv"
        return StreamingResponse(
            _journal_csv(records),
            media_type="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}"},
        )
    head = {"tenant_id": str(tenant_id), "from": start, "to": end}
    return StreamingResponse(_journal_json(head, records), media_type="application/json")


def _journal_csv(records: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, JOURNAL_COLUMNS, extrasaction="raise")
    writer.writeheader()
    for n, (record, fields) in enumerate(records, 1):
        # The CSV keeps v1.1's columns (a spreadsheet reads them by position); the variants'
        # skus are in the JSON's lines.
        kept = {k: as_text(v) for k, v in fields.items() if k != "skus"}
        writer.writerow({"record": record, **kept})
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _journal_json(
    head: dict[str, Any], records: Iterable[tuple[str, dict[str, Any]]]
) -> Iterator[str]:
    """`{...head, "opening": [...], "lines": [...], "closing": [...], "totals": [...]}`, one
    record at a time; totals are the lines' debits and credits per currency."""
    yield json.dumps(head, default=as_text)[:-1]
    sections = ["opening", "line", "closing"]  # in the order the journal gives them
    current: str | None = None
    written = 0
    totals: dict[str, list[int]] = {}

    def opening(record: str) -> Iterator[str]:
        nonlocal current, written
        while sections and current != record:
            yield ("]" if current else "") + f', "{JSON_SECTIONS[sections[0]]}": ['
            current, written = sections.pop(0), 0

    for record, fields in records:
        yield from opening(record)
        if record == "line":
            sums = totals.setdefault(fields["currency"], [0, 0])
            sums[0] += fields["debit"]
            sums[1] += fields["credit"]
        yield (", " if written else "") + json.dumps(fields, default=as_text)
        written += 1
    yield from opening("end")  # the sections nothing was in
    sums_out = [{"currency": c, "debit": d, "credit": k} for c, (d, k) in sorted(totals.items())]
    yield '], "totals": ' + json.dumps(sums_out) + "}"
