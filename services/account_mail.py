"""Mail to a person about their own account: the token that verifies their email, the one that
resets their password, and the word that someone tried to sign up with their email.

Each is rendered from the mail templates and handed to the email port (projections/mail/) on
one thread of its own, never on the request's: a request that mails answers as fast as one that
does not, so an answer's timing cannot tell whether an email has an account, and a slow mail
server never holds a request up. The jobs run one after another in the order they were given,
and a failure is logged and passes: nothing else depends on the mail (the person can ask
again)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from uuid import UUID

from projections.mail import EmailPort, MailTemplates

log = logging.getLogger("velora.mail")


class AccountMail:
    def __init__(self, port: EmailPort, templates: MailTemplates | None = None) -> None:
        self.port = port
        self.templates = templates or MailTemplates()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-mail")

    def later(self, job: Callable[[], None], what: str) -> Future[None]:
        """Runs `job` on the mail thread, after every job given before it."""

        def run() -> None:
            try:
                job()
            except Exception:  # the port's failure, or the store's: the person may ask again
                log.warning("account mail: %s failed", what, exc_info=True)

        return self._thread.submit(run)

    def send(
        self,
        kind: str,
        *,
        to: str,
        tenant_id: UUID,
        user_id: UUID,
        notification_id: str,
        **context: Any,
    ) -> None:
        """Renders one message and hands it to the port, on the calling thread: call it from
        a job given to `later`, or through `mail`."""
        email = self.templates.compose(
            kind,
            to=to,
            notification_id=notification_id,
            tenant_id=str(tenant_id),
            recipient_id=str(user_id),
            email=to,
            **context,
        )
        self.port.send(email)

    def mail(
        self,
        kind: str,
        *,
        to: str,
        tenant_id: UUID,
        user_id: UUID,
        notification_id: str,
        **context: Any,
    ) -> None:
        """Sends one message on the mail thread."""
        self.later(
            lambda: self.send(
                kind,
                to=to,
                tenant_id=tenant_id,
                user_id=user_id,
                notification_id=notification_id,
                **context,
            ),
            f"{kind} {notification_id}",
        )

    def close(self) -> None:
        """Sends what is queued, then stops the thread."""
        self._thread.shutdown(wait=True)
