"""Reconciliation with the payment provider, for finance and audit: one marketplace's UTC day,
its provider transactions matched to the ledger movements they caused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import Allowed, ReadAfter, ReconciliationQueriesDep, Scope
from api.policy import crosses_tenants
from api.problems import Problem
from api.schemas import MoneyOut
from api.security import Principal
from domain.reconciliation import reconciled_from

router = APIRouter(
    prefix="/v1/reconciliation",
    tags=["reconciliation"],
    dependencies=[Depends(ReadAfter("reconciliation"))],
)
Reader = Annotated[Principal, Depends(Allowed("reconciliation:read"))]


class ReconciliationOut(BaseModel):
    date: date
    tenant_id: str
    currency: str
    matched: int
    matches: list[dict[str, Any]]
    unmatched_ledger: list[dict[str, Any]]
    unmatched_provider: list[dict[str, Any]]
    processor_fees: MoneyOut
    fees_booked: list[dict[str, Any]]
    run: int
    completed_at: datetime


@router.get(
    "",
    response_model=ReconciliationOut,
    responses={404: {"description": "no such marketplace, or the day is not reconciled yet"}},
)
def reconciliation(
    queries: ReconciliationQueriesDep,
    scope: Scope,
    principal: Reader,
    day: Annotated[date, Query(alias="date", description="the UTC day, YYYY-MM-DD")],
    tenant_id: Annotated[
        UUID | None, Query(description="which marketplace, for the roles that cross tenants")
    ] = None,
    currency: Annotated[
        str | None, Query(pattern=r"^[A-Z]{3}$", description="when it took several")
    ] = None,
) -> dict[str, Any]:
    """A marketplace's reconciliation of one UTC day with the payment provider: how many of the
    provider's transactions matched the ledger movements they caused (`matched`, and each
    match in `matches`), what the ledger moved that the provider does not report
    (`unmatched_ledger`) and what the provider reports that the ledger lacks
    (`unmatched_provider`), each with its reason; the fees the provider kept (`processor_fees`,
    posted to the `processor:fees` expense account) and those the ledger lacked until this
    reconciliation booked them (`fees_booked`). An operator may run a day again (`velora
    reconcile`): the latest run's result is the day's, `run` counts them, `completed_at` is the
    latest's, and `fees_booked` holds what every run of the day booked. A provider transaction
    and the ledger movement it caused match within a day either side of each other (a charge at
    23:59:59 posted at 00:00:01), a dispute over its life, so the scheduler reconciles each day
    once the day after it is over too; until then, and for a day it found nothing to
    reconcile, 404."""
    if tenant_id is None:
        if crosses_tenants(principal.roles):
            raise Problem(
                422,
                "name the marketplace whose reconciliation you want",
                errors=[{"loc": ["query", "tenant_id"], "msg": "required for your role"}],
            )
        tenant_id = principal.tenant_id
    found = [
        r
        for r in queries.recorded(scope.narrowed_to(tenant_id), day)
        if currency is None or r["currency"] == currency
    ]
    if not found:
        due = reconciled_from(day) <= datetime.now(UTC)
        raise Problem(
            404,
            f"{day} is not reconciled"
            + (" for that marketplace" if due else ": not yet, it is reconciled once the day")
            + ("" if due else " after it is over too (UTC)"),
        )
    if len(found) > 1:
        raise Problem(
            422,
            "that day was reconciled in several currencies: name one",
            errors=[{"loc": ["query", "currency"], "msg": "required for this day"}],
        )
    return found[0]
