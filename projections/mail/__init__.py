"""Mail: the email port and the templates every message is rendered from.

- `EmailPort` takes one rendered `Email` for delivery, or raises. Two adapters implement it
  (adapters/email/): `LoggingEmail`, the default, writes one log line per message holding its
  recipient, subject and text (links and tokens included, so a developer follows them
  locally), and `SmtpEmail` (`VELORA_SMTP_URL`) hands it to a mail server with the standard
  library's smtplib, as multipart/alternative with the plain text first and the HTML second.
  The composition root chooses one; the code that mails is given it.
- `MailTemplates` renders each kind of message, in plain text and in HTML, with Jinja2 from the
  templates beside this module; a directory named by `VELORA_MAIL_TEMPLATES` replaces any of
  them file by file. A person's own account mail (services/account_mail.py) and the
  notifications consumer's mail about orders, shipping and returns
  (projections/notifications/consumer.py) go through the same templates and the same port.

The port is given rendered messages, not events: whoever sends knows the address (the identity
application reads it from the account; the consumer from the read models) and the words come
from the templates, so an adapter only delivers."""

from __future__ import annotations

from projections.mail.port import Email, EmailPort
from projections.mail.templates import MailTemplates, TemplateProblem

__all__ = ["Email", "EmailPort", "MailTemplates", "TemplateProblem"]
