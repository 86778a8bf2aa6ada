"""Every failure leaves the API as application/problem+json (RFC 9457). Domain errors cross into
HTTP here, in one table, and nowhere else."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from typing import Any

import eventsourcing.persistence
import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import domain
import projections
import services
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
PROBLEM_BASE = "https://velora.dev/problems/"

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


# Problems the API's middleware answers before any route (api/idempotency.py): their titles,
# with the statuses they come with, for the catalogue of problem types.
MIDDLEWARE_TITLES = {"Idempotency key reused": 422, "Request in progress": 409}


def problem_type(title: str) -> str:
    """The URI naming a kind of problem: one per title, the same whatever the detail, listed
    with its status in docs/problems.md (`catalogue`)."""
    return PROBLEM_BASE + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def problem_body(
    status: int, detail: str, *, title: str | None = None, errors: list[Any] | None = None
) -> dict[str, Any]:
    """A problem+json document: RFC 9457's members, and `errors` for a 422."""
    shown = title or TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": problem_type(shown),
        "title": shown,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = problem_body(status, detail, title=title, errors=errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def catalogue() -> list[tuple[str, int, str]]:
    """Every kind of problem the API answers, as (title, status, where it comes from), sorted
    by status then title: the HTTP layer's own, the middleware's, and each domain error's (every
    subclass of DomainError with a title of its own, in the domain, the applications or the
    read side). docs/problems.md is this, written out."""
    for package in (domain, services, projections):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    kinds: dict[str, tuple[int, str]] = {
        title: (status, "any request (HTTP)") for status, title in TITLES.items()
    }
    kinds.update({t: (s, "api (middleware)") for t, s in MIDDLEWARE_TITLES.items()})
    raised: dict[str, tuple[int, set[str]]] = {}
    seen: list[type[DomainError]] = [DomainError]
    while seen:
        kind = seen.pop()
        seen.extend(kind.__subclasses__())
        if "title" in vars(kind) and kind.title not in kinds:
            modules = raised.setdefault(kind.title, (status_of_kind(kind), set()))[1]
            modules.add(kind.__module__)
    for title, (status, modules) in raised.items():
        kinds[title] = (status, ", ".join(sorted(modules)))
    return sorted(((t, s, d) for t, (s, d) in kinds.items()), key=lambda k: (k[1], k[0]))


def catalogue_markdown() -> str:
    """docs/problems.md: the catalogue as a table (a test keeps the file equal to this)."""
    lines = [
        "# Problem types",
        "",
        "Every error Velora answers is `application/problem+json` (RFC 9457): `type`, `title`,",
        "`status`, `detail`, and `errors` (each `{loc, msg}`) on a 422. `type` names the kind of",
        "problem: one URI per title, whatever the detail says, so a client can branch on it. This",
        "is every kind there is (written by `python -m api.problems`; a test keeps it complete).",
        "",
        "| type | status | title | where it comes from |",
        "|---|---|---|---|",
    ]
    for title, status, doc in catalogue():
        slug = problem_type(title).removeprefix(PROBLEM_BASE)
        lines.append(f"| `{slug}` | {status} | {title} | {doc.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def status_of(error: DomainError) -> int:
    return status_of_kind(type(error))


def status_of_kind(error: type[DomainError]) -> int:
    for kind, status in STATUS_OF:
        if issubclass(error, kind):
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
        loc = ["body", exc.field] if exc.field else ["body"]
        errors = [{"loc": loc, "msg": exc.detail}] if status == 422 else None
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


if __name__ == "__main__":
    print(catalogue_markdown(), end="")
