"""Liveness, readiness and metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ContainerDep
from projections import migrate as read_migrations

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a store is unreachable"}})
async def readyz(container: ContainerDep) -> JSONResponse:
    """Readiness: every configured store (and the Kafka broker, if one is configured) answers
    and the read-model schema is current."""
    checks: dict[str, Any] = {}

    def check_event_store() -> None:
        container.log.ping()

    def check_read_db() -> None:
        if not read_migrations.is_current(container.read_store.engine):
            raise RuntimeError("read-model schema is not at the newest migration")

    checks_to_run: list[tuple[str, Callable[[], None]]] = [
        ("event_store", check_event_store),
        ("read_models", check_read_db),
        ("search", container.search.ping),
    ]
    if container.broker is not None:
        checks_to_run.append(("broker", container.broker.ping))
    for name, check in checks_to_run:
        try:
            await run_in_threadpool(check)
            checks[name] = "ok"
        except Exception as e:
            checks[name] = f"unavailable: {type(e).__name__}: {e}"[:300]
    for runner in container.runners:
        if runner.failure is not None:
            checks[f"projector:{runner.name}"] = f"stopped: {runner.failure}"[:300]
    ready = all(v == "ok" for k, v in checks.items() if not k.startswith("projector:"))
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
