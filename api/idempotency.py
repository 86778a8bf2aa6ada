"""Idempotency-Key for every POST, as API.md says: a repeat with the same key and body replays the
first response (header Idempotent-Replayed: true) without a second effect; the same key with
another body answers 422; a repeat while the first is still running answers 409. Keys are scoped
per user and kept in the read-model database (durable across restarts) for at least 24 hours."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from projections.store import naive_utc, utcnow
from projections.tables import idempotency_keys as keys

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# A claim whose request never finished (the process died mid-request) is abandoned after this.
IN_FLIGHT_TIMEOUT_S = 120
# Headers that describe the first response itself rather than its meaning are not replayed.
_NOT_REPLAYED = {b"content-length", b"date", b"server", b"x-request-id"}


@dataclass(frozen=True)
class Claim:
    outcome: Literal["new", "replay", "in_flight", "mismatch"]
    status_code: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


class IdempotencyStore:
    def __init__(self, engine: Engine, ttl_s: int) -> None:
        self.engine = engine
        self.ttl = timedelta(seconds=ttl_s)

    def claim(self, scope: str, key: str, request_hash: str) -> Claim:
        """Claims a key for a first request, or says what became of the request that holds it.
        A first request costs one insert; only a key already present is read, and one that
        expired or whose request was abandoned (its process died) is taken over."""
        now = utcnow()
        fresh = keys.insert().values(
            scope=scope,
            idem_key=key,
            request_hash=request_hash,
            state="in_flight",
            created_at=now,
            expires_at=now + self.ttl,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(fresh)
            return Claim("new")
        except sa.exc.IntegrityError:
            pass
        try:
            row = self._existing(scope, key, now, fresh)
        except sa.exc.IntegrityError:
            return self.claim(scope, key, request_hash)  # another request took it meanwhile
        if row is None:
            return Claim("new")
        if row.request_hash != request_hash:
            return Claim("mismatch")
        if row.state == "in_flight":
            return Claim("in_flight")
        return Claim("replay", row.status_code, row.response_headers, row.response_body)

    def _existing(self, scope: str, key: str, now: datetime, fresh: Any) -> Any:
        """The row holding the key, or None once this request has taken the key over: it was
        released, has expired, or its request was abandoned."""
        with self.engine.begin() as conn:
            this = (keys.c.scope == scope) & (keys.c.idem_key == key)
            row = conn.execute(sa.select(keys).where(this).with_for_update()).first()
            if row is None:
                conn.execute(fresh)
                return None
            abandoned = row.state == "in_flight" and row.created_at < now - timedelta(
                seconds=IN_FLIGHT_TIMEOUT_S
            )
            if row.expires_at < now or abandoned:
                conn.execute(keys.delete().where(this))
                conn.execute(fresh)
                return None
            return row

    def complete(
        self, scope: str, key: str, status_code: int, headers: list[list[str]], body: bytes
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                keys.update()
                .where(keys.c.scope == scope, keys.c.idem_key == key)
                .values(
                    state="done",
                    status_code=status_code,
                    response_headers=headers,
                    response_body=body,
                )
            )

    def release(self, scope: str, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(keys.delete().where(keys.c.scope == scope, keys.c.idem_key == key))

    def purge_expired(self, now: datetime) -> int:
        """Deletes the keys that expired before `now` (the scheduler's housekeeping)."""
        with self.engine.begin() as conn:
            return conn.execute(keys.delete().where(keys.c.expires_at < naive_utc(now))).rowcount


def _problem(status: int, title: str, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    problem: dict[str, Any] = {
        "type": f"https://velora.dev/problems/{status}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if status == 422:
        problem["errors"] = [{"loc": ["header", "Idempotency-Key"], "msg": detail}]
    return status, [(b"content-type", b"application/problem+json")], json.dumps(problem).encode()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, store_of: Any, scope_of: Any) -> None:
        self.app = app
        self.store_of = store_of  # () -> IdempotencyStore, resolved per request (built lazily)
        # (ASGI scope) -> the caller's key scope, or None for a caller whose token is refused:
        # nothing is kept for it, and the route answers 401 as it would without a key.
        self.scope_of = scope_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER.encode())
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            await _send(
                send,
                *_problem(
                    422,
                    "Validation failed",
                    f"Idempotency-Key must have 1 to {MAX_KEY_LENGTH} characters",
                ),
            )
            return
        caller = await run_in_threadpool(self.scope_of, scope)
        if caller is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(
            b"\n".join(
                [
                    scope["method"].encode(),
                    scope["path"].encode(),
                    scope.get("query_string", b""),
                    body,
                ]
            )
        ).hexdigest()
        store: IdempotencyStore = self.store_of()
        claim = await run_in_threadpool(store.claim, caller, key, digest)
        if claim.outcome == "mismatch":
            await _send(
                send,
                *_problem(
                    422,
                    "Idempotency key reused",
                    "this Idempotency-Key was used with a different request",
                ),
            )
            return
        if claim.outcome == "in_flight":
            await _send(
                send,
                *_problem(
                    409,
                    "Request in progress",
                    "a request with this Idempotency-Key is still running",
                ),
            )
            return
        if claim.outcome == "replay":
            replay_headers = [
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in (claim.headers or [])
            ]
            replay_headers.append((REPLAYED.encode(), b"true"))
            await _send(send, claim.status_code or 200, replay_headers, claim.body or b"")
            return
        await self._first(scope, body, send, store, caller, key)

    async def _first(
        self, scope: Scope, body: bytes, send: Send, store: IdempotencyStore, caller: str, key: str
    ) -> None:
        delivered = False
        status, headers, chunks = 500, [], []

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await run_in_threadpool(store.release, caller, key)
            raise
        response = b"".join(chunks)
        # Record the outcome before the client sees it, so an immediate repeat replays it.
        if status >= 500 or _no_store(headers):
            # Nothing trustworthy to replay (a 5xx), or a secret no table may keep (a token):
            # let the client send it again with the same key.
            await run_in_threadpool(store.release, caller, key)
        else:
            kept = [
                [k.decode("latin-1"), v.decode("latin-1")]
                for k, v in headers
                if k.lower() not in _NOT_REPLAYED
            ]
            await run_in_threadpool(store.complete, caller, key, status, kept, response)
        await _send(
            send, status, [h for h in headers if h[0].lower() != b"content-length"], response
        )


def _no_store(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in headers)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
