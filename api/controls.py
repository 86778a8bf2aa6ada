"""Control characters are refused at the edge, the same on every backend: SQLite keeps a NUL in a
title, PostgreSQL refuses it and MySQL cuts the string there. A path segment, a query value or a
JSON string holding a C0 or C1 control character (or DEL) answers 422 before any route runs;
tab, line feed and carriage return stay allowed inside JSON strings, where a description may
hold them.

JSON cannot hold a raw C0 control inside a string (json.loads refuses it, as 422), so in a
body a C0 control comes as an escape: `\\u0000`..`\\u001f` (but 9, a, d), `\\b` or `\\f`, after
an odd run of backslashes; DEL and C1 come escaped or raw. A scan of the raw bytes finds them
all without parsing the body twice."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_body

# Outside JSON: every C0 and C1 control and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In a JSON body: an escaped control character, or DEL or a C1 control written raw (JSON allows
# both unescaped; C1 is the UTF-8 pair C2 80..C2 9F).
_BODY_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|[bf])"
    rb"|\x7f|\xc2[\x80-\x9f]"
)
_WITH_BODY = {"POST", "PUT", "PATCH"}


class RefuseControls:
    def __init__(self, app: ASGIApp, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt = exempt  # paths whose bodies are someone else's format (signed webhooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
        if _CONTROL.search(scope["path"]) or _CONTROL.search(query):
            await _refuse(send, "path" if _CONTROL.search(scope["path"]) else "query")
            return
        headers = dict(scope["headers"])
        # FastAPI reads a body without a Content-Type as JSON too.
        kind = headers.get(b"content-type", b"").split(b";")[0].strip()
        is_json = not kind or kind.endswith(b"json")
        if scope["method"] not in _WITH_BODY or not is_json or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        body, rest = await _read(receive)
        if _BODY_CONTROL.search(body):
            await _refuse(send, "body")
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return rest or await receive()

        await self.app(scope, replay, send)


async def _read(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and a disconnect that came instead of its end (for the app to see)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


async def _refuse(send: Send, where: str) -> None:
    detail = f"control characters are not allowed in the {where}"
    body = json.dumps(problem_body(422, detail, errors=[{"loc": [where], "msg": detail}])).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
