"""Mail: the email port and the templates, which the account mail and the notifications
consumer send through."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.email.log import LoggingEmail
from adapters.email.smtp import SmtpEmail
from api.settings import Settings, SettingsError
from api.wiring.platform import Wiring
from projections.mail import EmailPort, MailTemplates, TemplateProblem


@dataclass
class MailParts:
    # The port (a log line or SMTP) and the templates.
    mail: EmailPort
    mail_templates: MailTemplates


def mail(settings: Settings) -> tuple[EmailPort, MailTemplates]:
    """The email port (SMTP when VELORA_SMTP_URL is set, else a log line per message) and the
    templates, the operator's checked now: a broken one stops Velora from starting."""
    templates = MailTemplates(settings.mail_templates, storefront_url=settings.storefront_url)
    try:
        templates.check()
        smtp = settings.smtp()
        port: EmailPort = SmtpEmail(smtp, settings.mail_from) if smtp else LoggingEmail()
    except (TemplateProblem, ValueError) as e:
        raise SettingsError(str(e)) from e
    return port, templates


def wire_mail(wiring: Wiring) -> MailParts:
    port, templates = mail(wiring.settings)
    return MailParts(mail=port, mail_templates=templates)
