"""Operations: where each projector stands."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import Allowed, OperationsDep
from api.security import Principal

router = APIRouter(prefix="/v1/ops", tags=["operations"])


class ProjectionOut(BaseModel):
    name: str
    position: int
    head: int
    lag: int
    failed_position: int | None
    failure: str | None


@router.get("/projections", response_model=list[ProjectionOut])
async def projections(
    operations: OperationsDep, _: Annotated[Principal, Depends(Allowed("ops:read"))]
) -> list[dict[str, Any]]:
    """Each projector's position, the event log's head and the lag between them; a projector
    stopped on a bad event says where and why."""
    return await run_in_threadpool(operations.projection_status)
