"""Posting webhook deliveries over HTTP (projections/webhooks/dispatch.py `Deliverer`), guarded
against server-side request forgery.

A receiver's name is looked up at every delivery, and the connection goes to an address from
that lookup only once every address it gave passes the URL rules (domain/webhooks.py
`is_public`): so a name that pointed at a public address when it was registered and points at
this machine, the private network or the cloud's metadata service now (DNS rebinding) reaches
none of them. The check is in the network backend httpcore connects through, after the lookup
and before the socket, so nothing connects anywhere unchecked. No connection is kept alive
between deliveries (each is checked afresh), no redirect is followed, no proxy from the
environment is used, and at most 64 KiB of an answer is read."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import certifi
import httpcore

from domain.webhooks import is_public
from projections.webhooks.dispatch import Outcome

Resolver = Callable[[str, int], list[str]]
MAX_ANSWER_BYTES = 64 * 1024


class AddressRefused(httpcore.ConnectError):
    """The receiver's name resolves to an address deliveries may not go to."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name has now (the system's resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """Connects only to an address its own lookup found and the rules allow."""

    def __init__(self, resolver: Resolver, *, allow_private: bool) -> None:
        self.resolver = resolver
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.resolver(host, port)
        except OSError as e:
            raise httpcore.ConnectError(f"{host} does not resolve: {e}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        refused = [a for a in addresses if not is_public(a)]
        if refused and not self.allow_private:
            raise AddressRefused(f"{host} resolves to {refused[0]}, which is not a public address")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


class HttpDeliverer:
    """The dispatcher's Deliverer over HTTP(S)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_s: float = 10.0,
        resolver: Resolver = resolve,
        senders: int = 8,
    ) -> None:
        self.timeout_s = timeout_s
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=senders,
            max_keepalive_connections=0,  # every delivery looks its receiver up again
            network_backend=GuardedBackend(resolver, allow_private=allow_private),
        )

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        timeout = {"connect": min(5.0, self.timeout_s), "read": self.timeout_s}
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._pool.stream(
                "POST",
                url,
                headers=[*headers.items(), ("Content-Length", str(len(body)))],
                content=body,
                extensions={"timeout": {**timeout, "write": self.timeout_s, "pool": 30.0}},
            ) as answer:
                read = 0
                for chunk in answer.iter_stream():
                    read += len(chunk)
                    if read > MAX_ANSWER_BYTES or time.monotonic() > deadline:
                        break
                return Outcome(answer.status)
        except AddressRefused as e:
            return Outcome(None, f"refused: {e}")
        except httpcore.TimeoutException:
            return Outcome(None, f"no answer within {self.timeout_s:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError) as e:
            return Outcome(None, f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
        except (httpcore.UnsupportedProtocol, httpcore.LocalProtocolError) as e:
            return Outcome(None, f"cannot post there: {e}")

    def close(self) -> None:
        self._pool.close()
