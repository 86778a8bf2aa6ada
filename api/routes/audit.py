"""The auditor's routes: an aggregate's recorded history, and its state at any version or time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from api.deps import Allowed, AuditDep, Cursor, Limit, VerifierDep
from api.security import Principal
from projections.store import decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/audit", tags=["audit"])


Auditor = Annotated[Principal, Depends(Allowed("audit:read"))]


@router.get("/streams/{aggregate_id}/events")
async def stream_events(
    aggregate_id: UUID,
    audit: AuditDep,
    _: Auditor,
    limit: Limit = 500,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every event recorded for one aggregate, oldest first: version, type, timestamp, the actor
    who caused it, its tenant and its data. Read from the event store itself."""
    after = decode_cursor(cursor)
    items, more = await run_in_threadpool(audit.history, aggregate_id, after=after, limit=limit)
    return {"items": items, "next_cursor": encode_cursor(after + limit) if more else None}


@router.get("/streams/{aggregate_id}/state")
async def stream_state(
    aggregate_id: UUID,
    audit: AuditDep,
    _: Auditor,
    version: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="the state after this version")
    ] = None,
    at: Annotated[datetime | None, Query(description="ISO 8601 with a zone")] = None,
) -> dict[str, Any]:
    """The aggregate as it was after `version`, or at the moment `at`, or now: rebuilt by
    replaying its own events."""
    return await run_in_threadpool(audit.state, aggregate_id, version=version, at=at)


@router.get("/verify")
async def verify(verifier: VerifierDep, _: Auditor) -> dict[str, Any]:
    """Recomputes the tamper-evident chain over every stored event, the ledger's trial balance
    from the ledger's own events, and every period seal. Names the first broken link."""
    found = await run_in_threadpool(verifier.verify)
    return found.report()
