"""The request body limit: a body larger than the limit is refused with 413 before it is read,
by its Content-Length when it states one, else as soon as the chunks received pass the limit."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_body


class _TooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing lets it through to the problem handler
    instead of calling it a malformed body."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is larger than {max_bytes} bytes")


class BodyLimit:
    """`larger`: (path pattern, limit) pairs for the few routes that take more, such as image
    uploads; every other path has `max_bytes`."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.larger = list(larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next(
            (most for pattern, most in self.larger if pattern.match(scope["path"])),
            self.default_bytes,
        )
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, declared.isdigit(), limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send, True, limit)

    async def _refuse(self, send: Send, too_large: bool, limit: int) -> None:
        status = 413 if too_large else 400
        detail = (
            f"the request body is larger than {limit} bytes"
            if too_large
            else "the Content-Length header is not a number"
        )
        body = json.dumps(problem_body(status, detail)).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
