"""Sales reports for finance and marketplace admins."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.deps import Allowed, ReadAfter, ReadStoreDep, Scope
from api.problems import Problem
from api.security import Principal
from domain.money import money_json
from domain.times import as_text
from projections.analytics.queries import sales_report
from projections.tax.queries import tax_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])
MAX_RANGE_DAYS = 3660
FIELDS = ("currency", "gmv", "commission", "refunds", "net")


class SalesRow(BaseModel):
    seller: str | None = None
    day: str | None = None
    currency: str
    gmv: dict[str, Any]
    commission: dict[str, Any]
    refunds: dict[str, Any]
    net: dict[str, Any]


class SalesReport(BaseModel):
    group_by: str
    start: date
    end: date
    rows: list[SalesRow]


@router.get(
    "/sales",
    response_model=SalesReport,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(ReadAfter("analytics"))],
)
def sales(
    read_store: ReadStoreDep,
    scope: Scope,
    _: Annotated[Principal, Depends(Allowed("reports:read"))],
    start: Annotated[date, Query(alias="from", description="first day, UTC (inclusive)")],
    end: Annotated[date, Query(alias="to", description="last day, UTC (inclusive)")],
    group_by: Annotated[str, Query(pattern="^(seller|day)$")] = "seller",
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """GMV (paid seller orders), commission (net of reversals), refunds and net to sellers, per
    seller or per day. `format=csv` streams the rows (amounts in minor units)."""
    _check_range(start, end)
    rows = sales_report(read_store, scope, start=start, end=end, group_by=group_by)
    if format == "csv":
        return StreamingResponse(
            _csv(rows, (group_by, *FIELDS)),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=sales.csv"},
        )

    return {
        "group_by": group_by,
        "start": start,
        "end": end,
        "rows": [
            {
                group_by: row[group_by],
                "currency": row["currency"],
                **{f: money_json(row[f], row["currency"]) for f in FIELDS[1:]},
            }
            for row in rows
        ],
    }


class TaxRow(BaseModel):
    currency: str
    country: str
    region: str | None
    rate_bps: int
    name: str
    collected: dict[str, Any]
    refunded: dict[str, Any]
    net: dict[str, Any]


class TaxReport(BaseModel):
    start: date
    end: date
    rows: list[TaxRow]


TAX_FIELDS = ("currency", "country", "region", "rate_bps", "name", "collected", "refunded", "net")


@router.get(
    "/tax",
    response_model=TaxReport,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[Depends(ReadAfter("tax"))],
)
def tax(
    read_store: ReadStoreDep,
    scope: Scope,
    principal: Annotated[Principal, Depends(Allowed("tax:report"))],
    start: Annotated[date, Query(alias="from", description="first day, UTC (inclusive)")],
    end: Annotated[date, Query(alias="to", description="last day, UTC (inclusive)")],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    tenant_id: Annotated[
        UUID | None, Query(description="the marketplace (default: the caller's own)")
    ] = None,
) -> Any:
    """Tax one marketplace collected, gave back (refunds, returns, cancellations, lost
    disputes) and owes, by country, region and rate. Over every day so far, each currency's
    net is the balance of `tax_payable` in the ledger. `format=csv` gives the same rows, amounts
    in minor units. Another tenant than one's own shows nothing, as an unknown one does."""
    _check_range(start, end)
    scope = scope.narrowed_to(tenant_id or principal.tenant_id)
    rows = tax_report(read_store, scope, start=start, end=end)
    if format == "csv":
        return StreamingResponse(
            _csv(rows, TAX_FIELDS),
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=tax.csv"},
        )
    money = ("collected", "refunded", "net")
    return {
        "start": start,
        "end": end,
        "rows": [
            {**row, **{f: money_json(row[f], row["currency"]) for f in money}} for row in rows
        ],
    }


def _check_range(start: date, end: date) -> None:
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise Problem(
            422,
            "`to` must be on or after `from`, at most ten years later",
            errors=[{"loc": ["query", "to"], "msg": "invalid range"}],
        )


def _csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> Iterator[str]:
    """`rows` as CSV under a header of `fields` (an empty cell for None), in 64 KiB pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row[f] is None else as_text(row[f]) for f in fields])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
