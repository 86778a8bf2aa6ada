"""Operations: where each projector stands, and the replay of a tenant a projector quarantined."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import POSITION_HEADER, Allowed, Ctx, OperationsDep
from api.security import Principal

router = APIRouter(prefix="/v1/ops", tags=["operations"])


class QuarantineOut(BaseModel):
    tenant_id: str
    position: int = Field(description="the first of the tenant's events passed over")
    topic: str
    originator_id: str
    failure: str
    quarantined_at: str


class WorkerOut(BaseModel):
    state: str = Field(description="running, failing, or elsewhere (another process runs it)")
    error: str | None
    restarts: int


class ProjectionOut(BaseModel):
    name: str
    position: int
    head: int
    lag: int
    failed_position: int | None
    failure: str | None
    quarantined: list[QuarantineOut]
    worker: WorkerOut


class ReplayIn(BaseModel):
    tenant_id: UUID
    projectors: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="empty: every projector that quarantines it",
    )


class ReplayOut(BaseModel):
    tenant_id: UUID
    replayed: dict[str, int] = Field(description="events applied, by projector")


@router.get("/projections", response_model=list[ProjectionOut])
async def projections(
    operations: OperationsDep, _: Annotated[Principal, Depends(Allowed("ops:read"))]
) -> list[dict[str, Any]]:
    """Each projector's position, the event log's head and the lag between them; a projector
    stopped on a bad event says where and why; `quarantined` lists the tenants whose events it
    passes over since it failed to apply one of theirs (quarantine), and `worker` how the
    projection thread of the process that answers is doing."""
    return await run_in_threadpool(operations.projection_status)


@router.post("/projections/replay", response_model=ReplayOut)
async def replay(
    body: ReplayIn,
    response: Response,
    operations: OperationsDep,
    ctx: Ctx,
    _: Annotated[Principal, Depends(Allowed("ops:replay"))],
) -> dict[str, Any]:
    """Applies the events of a tenant that projectors quarantined, once they are fixed: upstream
    projectors first, each in one transaction, and lifts the quarantine. 409 if none quarantines
    it, or if one still cannot apply them (the quarantine stays, with the new error). The
    replay is recorded in the log with who asked for it."""
    replayed, position = await run_in_threadpool(
        operations.replay, ctx, body.tenant_id, body.projectors
    )
    response.headers[POSITION_HEADER] = str(position)
    return {"tenant_id": body.tenant_id, "replayed": replayed}
