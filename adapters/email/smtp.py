"""The SMTP adapter of the email port: the standard library's smtplib and email packages.

`VELORA_SMTP_URL` names the server and how to reach it:

| scheme | connection |
|---|---|
| `smtps://user:pass@host:465` | TLS from the first byte (RFC 8314's choice) |
| `smtp+starttls://user:pass@host:587` | plain, then STARTTLS, which the server must offer |
| `smtp://user:pass@host:587` | plain, upgraded with STARTTLS when the server offers it |

Certificates are verified against the system's authorities whenever TLS is used. A plain
`smtp://` sends the password in the clear to a server that offers no STARTTLS, and an attacker
on the path can strip the offer: use it for a relay on the same host or network, and `smtps` or
`smtp+starttls` across anything else. User and password are URL-encoded in the URL.

Each message opens its own connection: account mail is rare and the notifications consumer
sends one message at a time, and a connection held open between them would only go stale."""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

from projections.mail.port import Email

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class SmtpEmail:
    def __init__(self, url: str, sender: str, *, timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                "VELORA_SMTP_URL must look like smtp://user:pass@host:587 "
                f"(schemes: {', '.join(sorted(DEFAULT_PORTS))})"
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self.sender = sender
        _, address = parseaddr(sender)
        if "@" not in address:
            raise ValueError(f"VELORA_MAIL_FROM {sender!r} holds no email address")
        # Message-IDs name the sender's domain, as RFC 5322 asks.
        self._domain = address.rpartition("@")[2]
        self._timeout_s = timeout_s

    def send(self, email: Email) -> None:
        message = self.message(email)
        with self._connected() as smtp:
            if self._user is not None:
                smtp.login(self._user, self._password)
            smtp.send_message(message)

    def message(self, email: Email) -> EmailMessage:
        """The MIME message: multipart/alternative, plain text first, HTML last (the part a
        client prefers when it shows HTML)."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to
        message["Subject"] = " ".join(email.subject.split())  # one line, whatever it held
        message["Date"] = format_datetime(datetime.now(UTC))
        # The same notification sent again carries the same Message-ID: receivers drop repeats.
        message["Message-ID"] = f"<{email.notification_id}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    def _connected(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout_s, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout_s)
        try:
            smtp.ehlo()
            if self.scheme == "smtp+starttls" or smtp.has_extn("starttls"):
                smtp.starttls(context=context)  # raises when required and not offered
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp
