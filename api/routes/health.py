"""Liveness, readiness and metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ContainerDep
from projections import migrate as read_migrations

router = APIRouter(tags=["operations"])
log = logging.getLogger("velora.api")


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
        ("rate_limits", container.limits.ping),
        ("media", container.blobs.ping),
    ]
    if container.broker is not None:
        checks_to_run.append(("broker", container.broker.ping))
    for name, check in checks_to_run:
        try:
            await run_in_threadpool(check)
            checks[name] = "ok"
        except Exception:
            # Why goes to the log, for the operator: the answer is open to anyone and says only
            # which part is down, never an error's text (hosts, users, paths).
            log.warning("readiness: %s unavailable", name, exc_info=True)
            checks[name] = "unavailable"
    for runner in container.runners:
        if runner.failure is not None:
            log.warning("readiness: projector %s stopped: %s", runner.name, runner.failure)
            checks[f"projector:{runner.name}"] = "stopped"
    ready = all(v == "ok" for k, v in checks.items() if not k.startswith("projector:"))
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
