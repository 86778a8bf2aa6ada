"""Idempotency-Key for every POST, as API.md says: a repeat with the same key and body replays the
first response (header Idempotent-Replayed: true) without a second effect; the same key with
another body answers 422; a repeat while the first is still running answers 409. Keys are scoped
per user (per client address without a token) and kept in the read-model database (durable
across restarts) for at least 24 hours. A key in flight names the process running its request;
once that process stops beating (it crashed), the key lapses and the next repeat runs afresh."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import uuid4

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_body
from projections.background import Background
from projections.schema import api_processes
from projections.schema import idempotency_keys as keys
from projections.store import ReadStore, naive_utc, utcnow

log = logging.getLogger("velora.api")

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Each API process beats this often; one silent for LAPSE_S has died, and so have its requests.
HEARTBEAT_S = 2.0
LAPSE_S = 10.0
# Headers that describe the first response itself rather than its meaning are not replayed.
_NOT_REPLAYED = {b"content-length", b"date", b"server", b"x-request-id"}


@dataclass(frozen=True)
class Claim:
    outcome: Literal["new", "replay", "in_flight", "mismatch"]
    status_code: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


class Heartbeat(Background):
    """Says, every HEARTBEAT_S, that this process is alive and running the requests it owns."""

    def __init__(self, store: IdempotencyStore) -> None:
        super().__init__("idempotency-heartbeat")
        self.store = store

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.store.beat()
            except sa.exc.SQLAlchemyError as e:  # the read database is away: try again
                log.warning("idempotency heartbeat failed: %s", e)
            self._stop.wait(self.store.heartbeat_s)


class IdempotencyStore:
    def __init__(
        self,
        store: ReadStore,
        ttl_s: int,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        lapse_s: float = LAPSE_S,
    ) -> None:
        # Every write in a write transaction (BEGIN IMMEDIATE on SQLite: a read that turns into
        # a write could otherwise find the database locked instead of waiting its turn).
        self.store = store
        self.ttl = timedelta(seconds=ttl_s)
        self.heartbeat_s = heartbeat_s
        self.lapse = timedelta(seconds=lapse_s)
        self.process_id = uuid4().hex
        self._heartbeat = Heartbeat(self)
        self._started = threading.Lock()
        self._beaten = False  # whether this process ever said it was alive

    def beat(self) -> None:
        with self.store.begin() as conn:
            this = api_processes.c.process_id == self.process_id
            seen = conn.execute(api_processes.update().where(this).values(seen_at=utcnow()))
            if seen.rowcount == 0:
                conn.execute(
                    api_processes.insert().values(process_id=self.process_id, seen_at=utcnow())
                )

    def start(self) -> None:
        """Beats once, then on a thread: before this process claims its first key."""
        with self._started:
            if not self._heartbeat.running:
                self.beat()
                self._beaten = True
                self._heartbeat.start()

    def stop(self) -> None:
        """A clean stop: nothing of this process is running any more, so its claims lapse now."""
        self._heartbeat.stop()
        if not self._beaten:
            return  # it claimed nothing (a CLI command, say): nothing to take back
        with self.store.begin() as conn:
            conn.execute(
                api_processes.delete().where(api_processes.c.process_id == self.process_id)
            )

    def claim(self, scope: str, key: str, request_hash: str) -> Claim:
        """Claims a key for a first request, or says what became of the request that holds it.
        A first request costs one insert; only a key already present is read, and one that
        expired or whose request was abandoned (its process died) is taken over."""
        if not self._heartbeat.running:
            self.start()
        now = utcnow()
        fresh = keys.insert().values(
            scope=scope,
            idem_key=key,
            request_hash=request_hash,
            state="in_flight",
            created_at=now,
            expires_at=now + self.ttl,
            owner=self.process_id,
        )
        try:
            with self.store.begin() as conn:
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
        with self.store.begin() as conn:
            this = (keys.c.scope == scope) & (keys.c.idem_key == key)
            row = conn.execute(sa.select(keys).where(this).with_for_update()).first()
            if row is None:
                conn.execute(fresh)
                return None
            abandoned = row.state == "in_flight" and not self._alive(conn, row.owner, now)
            if row.expires_at < now or abandoned:
                conn.execute(keys.delete().where(this))
                conn.execute(fresh)
                return None
            return row

    def _alive(self, conn: Any, owner: str | None, now: datetime) -> bool:
        """Whether the process that claimed a key may still be running its request."""
        if owner == self.process_id:
            return True
        seen = conn.execute(
            sa.select(api_processes.c.seen_at).where(api_processes.c.process_id == owner)
        ).scalar()
        return seen is not None and seen >= now - self.lapse

    def complete(
        self, scope: str, key: str, status_code: int, headers: list[list[str]], body: bytes
    ) -> None:
        with self.store.begin() as conn:
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
        with self.store.begin() as conn:
            conn.execute(keys.delete().where(keys.c.scope == scope, keys.c.idem_key == key))

    def purge_expired(self, now: datetime) -> int:
        """Deletes the keys that expired before `now`, and the heartbeats of processes gone for
        a day (the scheduler's housekeeping)."""
        with self.store.begin() as conn:
            gone = naive_utc(now) - timedelta(days=1)
            conn.execute(api_processes.delete().where(api_processes.c.seen_at < gone))
            return conn.execute(keys.delete().where(keys.c.expires_at < naive_utc(now))).rowcount


def _problem(status: int, title: str, detail: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    errors = [{"loc": ["header", "Idempotency-Key"], "msg": detail}] if status == 422 else None
    problem = problem_body(status, detail, title=title, errors=errors)
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
        digest = request_digest(
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            body,
            headers.get(b"content-type", b""),
        )
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


def request_digest(method: str, path: str, query: bytes, body: bytes, content_type: bytes) -> str:
    """What two sends of the same request have in common, hashed: the method, the path, the
    query, and the body by its meaning (`_comparable`)."""
    parts = [method.encode(), path.encode(), query, _comparable(body, content_type)]
    return hashlib.sha256(b"\n".join(parts)).hexdigest()


def _comparable(body: bytes, content_type: bytes) -> bytes:
    """The body as two sends of the same request have it in common, whichever client wrote it:
    JSON in canonical form (keys sorted, no insignificant whitespace, each number as the value
    it parses to, so `1`, `1.0` and `1e0` are one); a multipart body (an image upload) with its
    boundary, which every client draws at random per send, left out. A body that is not what it
    says it is stays as sent (it is refused anyway)."""
    kind, _, params = content_type.partition(b";")
    kind = kind.strip().lower()
    if kind == b"application/json" or kind.endswith(b"+json"):
        return _canonical_json(body)
    if kind != b"multipart/form-data":
        return body
    for param in params.split(b";"):
        name, _, value = param.strip().partition(b"=")
        if name.lower() == b"boundary" and value.strip(b'"'):
            return body.replace(value.strip(b'"'), b"")
    return body


def _canonical_json(body: bytes) -> bytes:
    try:
        parsed = json.loads(body, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse)
    except ValueError:
        return body
    return json.dumps(
        _numbers_as_text(parsed), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _numbers_as_text(value: Any) -> Any:
    """Each number as one canonical text of its value (`1`, `1.0`, `10e-1`: "n:1e0"), so that it
    sorts and compares by value; strings stay strings (a number never equals a string)."""
    if isinstance(value, Decimal):
        sign, digits, exponent = value.as_tuple()  # exact: no context rounds it
        text = "".join(map(str, digits)).lstrip("0")
        stripped = text.rstrip("0")
        if not stripped:
            return "n:0"
        return f"n:{'-' if sign else ''}{stripped}e{int(exponent) + len(text) - len(stripped)}"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, list):
        return [_numbers_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers_as_text(v) for k, v in value.items()}
    return value


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
