"""Real HTTP receivers for webhook deliveries: a threaded server on this machine that answers
each path as a receiver would, well or badly, and records every request it got.

Paths (`<name>` keeps endpoints apart):
- `/ok/<name>`: 200.
- `/fail/<name>?n=K`: 500 to the first K requests on the path, then 200.
- `/down/<name>`: 503 until `heal(path)`; then 200.
- `/slow/<name>`: answers 200 after `slow_s` (longer than Velora's timeout in the tests).
- `/redirect/<name>`: 302 to `/ok/<name>-moved` (which must never be reached: no redirect is
  followed).
- `/close/<name>`: reads the request and closes the connection without a word.
- `/pace/<name>`: 200 after `pace_s` (a receiver that takes its time, within the timeout)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # what the receiver answered (None: it closed the connection)
    at: float

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def signed_with(self, secret: str) -> bool:
        """Checks `Velora-Signature` as docs/webhooks.md tells a receiver to."""
        parts = dict(p.split("=", 1) for p in self.headers["velora-signature"].split(","))
        expected = hmac.new(
            secret.encode(), parts["t"].encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        return (
            hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < 300
        )


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a receiver that cut its connection on purpose, or a client that gave up


class Receivers:
    def __init__(self, slow_s: float = 3.0, pace_s: float = 0.2) -> None:
        self.slow_s = slow_s
        self.pace_s = pace_s
        self.received: list[Received] = []
        self._hits: Counter[str] = Counter()
        self._healed: set[str] = set()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, kind: str, name: str, **query: Any) -> str:
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return f"{self.base}/{kind}/{name}" + (f"?{tail}" if tail else "")

    def heal(self, path: str) -> None:
        with self._lock:
            self._healed.add(path)

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def delivered(self, path: str) -> list[Received]:
        """The requests on a path that the receiver answered with a 2xx."""
        return [r for r in self.on(path) if r.status is not None and 200 <= r.status < 300]

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int | None, dict[str, str]]:
        kind = path.split("/")[1]
        with self._lock:
            self._hits[path] += 1
            hits = self._hits[path]
            healed = path in self._healed
        if kind == "fail":
            return (500 if hits <= int(query.get("n", ["1"])[0]) else 200), {}
        if kind == "down":
            return (200 if healed else 503), {}
        if kind == "slow":
            time.sleep(self.slow_s)
            return 200, {}
        if kind == "pace":
            time.sleep(self.pace_s)
            return 200, {}
        if kind == "redirect":
            return 302, {"Location": f"{self.base}/ok/{path.split('/')[2]}-moved"}
        if kind == "close":
            return None, {}
        return 200, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                parts = urlsplit(self.path)
                status, extra = receivers._answer(parts.path, parse_qs(parts.query))
                with receivers._lock:
                    receivers.received.append(
                        Received(
                            parts.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            status,
                            time.monotonic(),
                        )
                    )
                if status is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        return Handler

    @contextmanager
    def running(self) -> Iterator[Receivers]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
