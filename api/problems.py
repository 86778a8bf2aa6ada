"""Every failure leaves the API as application/problem+json (RFC 9457). Domain errors cross into
HTTP here, in one table, and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

import eventsourcing.persistence
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotAllowed,
    NotFound,
    TooLarge,
    Unsupported,
    Upstream,
)
from domain.media import BlobStoreUnavailable
from projections.search.port import InvalidSearch, SearchUnavailable
from projections.store import InvalidCursor

log = logging.getLogger("velora.api")

# A store that cannot be reached for the moment: the read models', the event log's, or Redis.
STORE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    redis.exceptions.ConnectionError,  # the shared rate-limit counters
    redis.exceptions.TimeoutError,
    BlobStoreUnavailable,  # where images are kept (files or S3)
)

PROBLEM_JSON = "application/problem+json"

# The one table from domain error kinds to HTTP statuses.
STATUS_OF: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (Conflict, 409),
    (NotAllowed, 403),
    (Invalid, 422),
    (TooLarge, 413),
    (Unsupported, 415),
    (Upstream, 502),
]

TITLES = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


class Problem(Exception):
    """An HTTP failure raised by the API layer itself (auth, policy, consistency waits)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        self.errors = errors


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://velora.dev/problems/{status}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def status_of(error: DomainError) -> int:
    for kind, status in STATUS_OF:
        if isinstance(error, kind):
            return status
    return 422


def _loc(loc: Any) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status, exc.detail, title=exc.title, headers=exc.headers, errors=exc.errors
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        request.state.error = type(exc).__name__  # the commands metric's result
        status = status_of(exc)
        errors = [{"loc": ["body"], "msg": exc.detail}] if status == 422 else None
        return problem_response(status, exc.detail, title=exc.title, errors=errors)

    @app.exception_handler(InvalidCursor)
    async def _cursor(_: Request, exc: InvalidCursor) -> JSONResponse:
        return problem_response(
            422, str(exc), errors=[{"loc": ["query", "cursor"], "msg": str(exc)}]
        )

    @app.exception_handler(InvalidSearch)
    async def _search(_: Request, exc: InvalidSearch) -> JSONResponse:
        return problem_response(422, str(exc), errors=[{"loc": ["query"], "msg": str(exc)}])

    @app.exception_handler(SearchUnavailable)
    async def _search_down(_: Request, exc: SearchUnavailable) -> JSONResponse:
        log.warning("search unavailable: %s", exc)
        return problem_response(
            503, "search is unavailable for the moment", headers={"Retry-After": "1"}
        )

    async def _store_down(request: Request, exc: Exception) -> JSONResponse:
        # A database that restarted or dropped a connection: pools hand out connections without
        # testing them first, so the request that meets a dead one is told to try again, and
        # the pool replaces it.
        log.warning("a store is unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            503, "a store is unavailable for the moment", headers={"Retry-After": "1"}
        )

    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _store_down)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(400, "the request body is not valid JSON")
        return problem_response(
            422,
            "the request does not match what this endpoint accepts",
            errors=[{"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "an unexpected error occurred; it has been logged")
