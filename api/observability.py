"""One ASGI middleware that gives every request its id, times it by route template, counts
commands by result, and writes the access log line."""

from __future__ import annotations

import logging
import time
from typing import Any
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import start_request
from api.metrics import Metrics

log = logging.getLogger("velora.access")

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_ID = "x-request-id"


class Observed:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = sent[:100] or uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        context = start_request(request_id)
        status = 500  # unless a response starts: an error escaped every handler

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started, context)

    def _observe(self, scope: Scope, status: int, elapsed_s: float, context: Any) -> None:
        method = scope["method"]
        route = scope.get("route")
        # The template, never the raw path: ids in paths would make a series per id.
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(method, template, str(status)).observe(elapsed_s)
        if method in COMMAND_METHODS and route is not None:
            error = scope.get("state", {}).get("error")
            result = "ok" if status < 400 else (error or str(status))
            self.metrics.commands.labels(getattr(route, "name", template), result).inc()
        log.info(
            "request",
            extra={
                "method": method,
                "route": template,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(elapsed_s * 1000, 3),
                **context,
            },
        )
