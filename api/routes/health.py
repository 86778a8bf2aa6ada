"""Liveness, readiness and metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ContainerDep
from api.operations import ProjectionHealth
from migrations import runner as read_migrations

router = APIRouter(tags=["operations"])
log = logging.getLogger("velora.api")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "a store is unreachable, or the projectors are stopped"}},
)
async def readyz(container: ContainerDep) -> JSONResponse:
    """Readiness: every configured store (and the Kafka broker, if one is configured) answers,
    the read-model schema is current, no projector is stopped, and the projection thread of
    this process (if it runs one) is alive. A projector that quarantines one tenant's events
    leaves every other tenant served: the answer stays 200, says `degraded`, and
    names the projector; `/v1/ops/projections` says which tenant and why."""
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
    degraded = False
    if checks["read_models"] == "ok":
        try:
            health = await run_in_threadpool(container.operations.health)
        except Exception:
            log.warning("readiness: projection state unreadable", exc_info=True)
            checks["read_models"] = "unavailable"
        else:
            degraded = _projector_checks(health, checks)
    ready = all(v in ("ok", "quarantines a tenant") for v in checks.values())
    return JSONResponse(
        {"ready": ready, "degraded": degraded, "checks": checks},
        status_code=200 if ready else 503,
    )


def _projector_checks(health: ProjectionHealth, checks: dict[str, Any]) -> bool:
    """Adds the projectors' state to `checks`; True if some quarantine a tenant."""
    if health.failing is not None:
        log.warning("readiness: the projection thread is failing: %s", health.failing)
        checks["projectors"] = "failing"
    elif health.running_here:
        checks["projectors"] = "ok"
    for name, failure in health.stopped.items():
        log.warning("readiness: projector %s stopped: %s", name, failure)
        checks[f"projector:{name}"] = "stopped"
    quarantining = {
        name: n for name, n in health.quarantined.items() if n and name not in health.stopped
    }
    for name in quarantining:
        checks[f"projector:{name}"] = "quarantines a tenant"
    return bool(quarantining)
