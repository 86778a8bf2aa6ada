"""The email port and the message it takes. Its adapters are in adapters/email/."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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
