"""A real SMTP server inside the tests (aiosmtpd's Controller on a free port), which the SMTP
adapter delivers to exactly as to any mail server: it logs in, and the server keeps each message
it accepted, parsed, for the test to read as the person it went to would."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "velora", "mail-password"
TOKEN = re.compile(r"\b[0-9a-f]{32}\.[A-Za-z0-9_-]{40,64}\b")


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]

    def token(self) -> str:
        """The account token the message carries, as its reader would copy it out."""
        found = TOKEN.findall(self.part("plain"))
        assert len(set(found)) == 1, found
        return str(found[0])


class Inbox:
    """What the server accepted, in order."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str, subject: str = "") -> list[Received]:
        """The messages to `address` so far (only those whose subject holds `subject`)."""
        with self._lock:
            return [
                r
                for r in self.received
                if address in r.rcpt_tos and subject in str(r.message["Subject"])
            ]

    def wait(
        self, address: str, count: int = 1, subject: str = "", timeout_s: float = 15.0
    ) -> list[Received]:
        """The messages to `address` (with `subject` in theirs) once there are `count` of them:
        mail goes out beside the answer, not within it. Fails past the deadline."""
        deadline = time.monotonic() + timeout_s
        while len(self.to(address, subject)) < count:
            assert time.monotonic() < deadline, f"{count} message(s) to {address} never came"
            time.sleep(0.02)
        return self.to(address, subject)

    def settings(self) -> dict[str, object]:
        """The settings of a deployment whose mail goes to this server."""
        return {
            "smtp_url": f"smtp://{USER}:{PASSWORD}@127.0.0.1:{self.port}",
            "mail_from": "Acme Market <shop@acme.test>",
        }


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


class _Controller(Controller):
    def factory(self) -> Any:
        # The server is on the loopback: a login without TLS is what it is for here, and
        # aiosmtpd's warning about it says nothing a test needs.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return super().factory()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """An SMTP server on a free local port that requires a login, as a real relay does."""
    inbox = Inbox()
    inbox.port = free_port()
    controller = _Controller(
        inbox,
        hostname="127.0.0.1",
        port=inbox.port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,  # a local server: no certificate to verify in a test
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
