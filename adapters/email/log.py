"""The email port's default adapter: a log line per message."""

from __future__ import annotations

import logging

from projections.mail.port import Email

log = logging.getLogger("velora.mail")


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
