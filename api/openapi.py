"""The OpenAPI document as the server really behaves, for people and for client generators:
how each operation is authorised (bearer token, publishable key, cart or order token), every
error as the problem+json Velora sends (never FastAPI's `HTTPValidationError`), the headers of
API.md (Idempotency-Key on every POST, X-Velora-Position on commands, X-Velora-Min-Position on
queries (declared by the routes that wait for it), Idempotent-Replayed, Retry-After), and
operationIds that are the routes' own names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.deps import (
    CART_TOKEN_HEADER,
    ORDER_TOKEN_HEADER,
    POSITION_HEADER,
    PUBLISHABLE_KEY_HEADER,
    Allowed,
    current_caller,
    current_principal,
)
from api.idempotency import MAX_KEY_LENGTH
from api.policy import Visitor
from api.problems import PROBLEM_JSON, TITLES

PROBLEM = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details: every error Velora answers (docs/problems.md).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "description": "the kind of problem, one URI per title (docs/problems.md)",
            "example": "https://velora.dev/problems/wrong-lifecycle-step",
        },
        "title": {"type": "string", "example": "Wrong lifecycle step"},
        "status": {"type": "integer", "example": 409},
        "detail": {"type": "string", "example": "cannot ship a seller order that is pending"},
        "errors": {
            "type": "array",
            "description": "on a 422: what is wrong, and where (`loc` names the field)",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        "example": ["body", "email"],
                    },
                    "msg": {"type": "string", "example": "'x' is not an email address"},
                },
            },
        },
    },
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "an access token from POST /v1/auth/token",
    },
    "publishableKey": {
        "type": "apiKey",
        "in": "header",
        "name": PUBLISHABLE_KEY_HEADER,
        "description": "a storefront's publishable key: a guest, on the routes open to guests",
    },
    "cartToken": {
        "type": "apiKey",
        "in": "header",
        "name": CART_TOKEN_HEADER,
        "description": "a guest's cart token, from the answer that opened its cart",
    },
    "orderToken": {
        "type": "apiKey",
        "in": "header",
        "name": ORDER_TOKEN_HEADER,
        "description": "a guest's order token, from its checkout's answer",
    },
}
COMMANDS = ("post", "put", "patch", "delete")


def install(app: FastAPI) -> None:
    """Makes `app.openapi()` answer the document described above, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            operations = {
                (r.path_format, m.lower()): r for r in _routes(app) for m in r.methods or ()
            }
            described(schema, operations)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def operation_id(route: APIRoute) -> str:
    """A stable operationId: the route function's own name (`checkout`, `get_order`)."""
    return route.name


def described(schema: dict[str, Any], routes: dict[tuple[str, str], Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((path, method))
            if route is not None:
                _describe(path, method, operation, route)


def _describe(path: str, method: str, operation: dict[str, Any], route: Any) -> None:
    signed_in, guests = _who(route.dependant)
    parameters = operation.setdefault("parameters", [])
    named = {(p["in"], p["name"].lower()) for p in parameters}
    security: list[dict[str, list[str]]] = []
    if signed_in:
        security.append({"bearer": []})
    if guests:
        security.append({"publishableKey": []})
    for header, scheme in ((CART_TOKEN_HEADER, "cartToken"), (ORDER_TOKEN_HEADER, "orderToken")):
        if ("header", header.lower()) in named:
            security.append({scheme: [], "publishableKey": []})
    operation["security"] = security or [{}]
    if method == "post" and ("header", "idempotency-key") not in named:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "makes a retry safe: the same key and request replay the first "
                "answer (Idempotent-Replayed: true) with no second effect",
                "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            }
        )
    if not parameters:
        operation.pop("parameters")
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status.startswith("2") and method in COMMANDS:
            response.setdefault("headers", {})[POSITION_HEADER] = {
                "description": "the log position this command's events reached",
                "schema": {"type": "integer"},
            }
        if status.startswith("2") and method == "post":
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "description": "true on an answer replayed for a repeated Idempotency-Key",
                "schema": {"type": "string", "enum": ["true"]},
            }
    for status in _errors(path, method, operation, signed_in or guests):
        entry = responses.setdefault(str(status), {})
        entry.setdefault("description", TITLES.get(status, "Error"))
        entry["content"] = {PROBLEM_JSON: {"schema": PROBLEM}}
        if status in (429, 503):
            entry["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
            }
    for status, entry in responses.items():
        if status[0] in "45" and "content" in entry:
            entry["content"] = {PROBLEM_JSON: {"schema": PROBLEM}}


def _errors(path: str, method: str, operation: dict[str, Any], authorised: bool) -> list[int]:
    """The errors an operation can answer, beyond those it names itself."""
    statuses = [int(s) for s in operation.get("responses", {}) if s[0] in "45"]
    statuses += [429, 503]
    if authorised:
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if "requestBody" in operation:
        statuses += [400, 413]
    if method == "post":
        statuses.append(409)  # Idempotency-Key: the same key's first request still running
    return sorted(set(statuses))


def _who(dependant: Dependant) -> tuple[bool, bool]:
    """Whether the route wants a caller (a token), and whether a guest (a publishable key)
    will do: read from the dependencies it declares. A permission check lets guests in where
    the permission table names them; without one, any caller will do unless the route wants
    a signed-in user."""
    calls = list(_calls(dependant))
    allowed = [c for c in calls if isinstance(c, Allowed)]
    signed_in = bool(allowed) or any(c in (current_caller, current_principal) for c in calls)
    if allowed:
        guests = all(Visitor.GUEST.value in c.roles for c in allowed)
    else:
        guests = current_caller in calls and current_principal not in calls
    return signed_in, guests


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _routes(app: FastAPI) -> Iterator[Any]:
    """Every operation's route as the document lists it: its path, methods and dependencies
    with those of the routers that include it."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context
