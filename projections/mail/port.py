"""The email port, the message it takes, and its default adapter, the log line."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("velora.mail")


@dataclass(frozen=True)
class Email:
    """One message, rendered: to whom, its subject, and its body in plain text and in HTML.
    It also says what it is (`kind`, the template it was rendered from), whom it concerns
    (`tenant_id`, `recipient_id`) and which notification it carries: that id is the same every
    time the message is sent again, so a receiver can drop repeats (it makes the Message-ID)."""

    to: str
    subject: str
    text: str
    html: str = field(repr=False)
    kind: str
    notification_id: str
    tenant_id: str
    recipient_id: str


class EmailPort(Protocol):
    def send(self, email: Email) -> None:
        """Takes the message for delivery; raises if it could not."""


class LoggingEmail:
    """The default port: one log line per message, holding its recipient, subject and text,
    and nothing sent. The line carries what a developer needs to follow a link or paste a
    token, so keep it out of production logs: set VELORA_SMTP_URL there."""

    def send(self, email: Email) -> None:
        log.info(
            "email to %s: %s\n\n%s",
            email.to,
            email.subject,
            email.text,
            extra={"mail_kind": email.kind, "notification_id": email.notification_id},
        )
