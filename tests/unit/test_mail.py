"""The email port's adapters and the templates: the SMTP adapter delivers to a real SMTP server
(aiosmtpd, tests/mailbox.py), an operator's directory replaces built-in templates file by file,
and the default writes one log line per message."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.email.log import LoggingEmail
from adapters.email.smtp import SmtpEmail
from api.settings import SettingsError
from api.wiring.mail import mail
from projections.mail import Email, MailTemplates, TemplateProblem
from projections.mail.templates import money
from tests.conftest import make_settings
from tests.mailbox import PASSWORD, USER, Inbox, smtp_server


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


def reset_mail(templates: MailTemplates, to: str) -> Email:
    return templates.compose(
        "password_reset",
        to=to,
        notification_id="7f0c6e0e-5b4f-5c3e-9d2a-0f1e2d3c4b5a",
        tenant_id="t",
        recipient_id="u",
        email=to,
        token="0123456789abcdef0123456789abcdef.secret-secret-secret-secret-secret-secret",
        valid_for="30 minutes",
    )


def test_smtp_delivers_multipart_text_and_html_from_the_configured_sender(inbox: Inbox) -> None:
    port = SmtpEmail(
        f"smtp://{USER}:{PASSWORD}@127.0.0.1:{inbox.port}", "Acme Market <shop@acme.test>"
    )
    sent = reset_mail(MailTemplates(storefront_url="https://shop.acme.test/"), "ann@buyer.test")
    port.send(sent)
    (got,) = inbox.wait("ann@buyer.test")
    message = got.message
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert str(message["From"]) == "Acme Market <shop@acme.test>"
    assert got.mail_from == "shop@acme.test" and got.rcpt_tos == ["ann@buyer.test"]
    assert str(message["Subject"]) == sent.subject == "Choose a new password"
    assert str(message["Message-ID"]) == f"<{sent.notification_id}@acme.test>"
    assert str(message["Auto-Submitted"]) == "auto-generated"
    link = "https://shop.acme.test/reset-password?token=0123456789abcdef"
    assert link in got.part("plain") and link in got.part("html")
    assert got.token() == sent.text.split("token=")[1].split()[0]


def test_a_url_or_sender_it_cannot_use_is_refused_at_once() -> None:
    for url in ("http://host", "smtp://", "smtps:///"):
        with pytest.raises(ValueError, match="VELORA_SMTP_URL"):
            SmtpEmail(url, "shop@acme.test")
    with pytest.raises(ValueError, match="VELORA_MAIL_FROM"):
        SmtpEmail("smtp://host", "Acme")
    assert SmtpEmail("smtps://u:p%40ss@host", "a@b.co").port == 465


def test_an_operators_templates_replace_the_built_in_ones_file_by_file(
    inbox: Inbox, tmp_path: Path
) -> None:
    (tmp_path / "password_reset.txt").write_text(
        '{% set subject = "Acme: your new password" %}Hi {{ email }}, use {{ token }}.\n'
    )
    (tmp_path / "_layout.html").write_text(
        "<html><body><h1>ACME</h1>{% block content %}{% endblock %}</body></html>"
    )
    settings = make_settings(
        tmp_path / "data",
        smtp_url=f"smtp://{USER}:{PASSWORD}@127.0.0.1:{inbox.port}",
        mail_from="shop@acme.test",
        mail_templates=tmp_path,
    )
    port, templates = mail(settings)
    assert isinstance(port, SmtpEmail)
    port.send(reset_mail(templates, "cy@buyer.test"))
    (got,) = inbox.wait("cy@buyer.test")
    assert str(got.message["Subject"]) == "Acme: your new password"
    assert got.part("plain").startswith("Hi cy@buyer.test, use 0123456789abcdef")
    html = got.part("html")
    assert "<h1>ACME</h1>" in html  # the operator's layout around the built-in body
    assert "choose a new password for the account of" in html
    # A kind the operator left alone stays built in.
    subject, _, _ = templates.render("verify_email", {"email": "a", "token": "t"})
    assert subject == "Confirm your email"


def test_a_broken_operator_template_stops_velora_at_start(tmp_path: Path) -> None:
    (tmp_path / "order_paid.html").write_text("{% if %}")
    with pytest.raises(SettingsError, match=r"order_paid\.html"):
        mail(make_settings(tmp_path / "data", mail_templates=tmp_path))
    with pytest.raises(TemplateProblem):
        MailTemplates(tmp_path / "missing").check()


def test_html_escapes_what_it_shows_and_text_does_not() -> None:
    _, text, html = MailTemplates().render(
        "password_reset", {"email": "<b>x</b>@y.z", "token": "t&u", "valid_for": "1 hour"}
    )
    assert "<b>x</b>@y.z" in text and "&lt;b&gt;x&lt;/b&gt;@y.z" in html
    assert "<b>x</b>" not in html


def test_the_default_port_writes_one_log_line_with_recipient_subject_and_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent = reset_mail(MailTemplates(), "dee@buyer.test")
    with caplog.at_level(logging.INFO, logger="velora.mail"):
        LoggingEmail().send(sent)
    (line,) = caplog.records
    message = line.getMessage()
    assert "dee@buyer.test" in message and sent.subject in message and sent.text in message


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1234, "USD", "12.34 USD"),
        (500, "JPY", "500 JPY"),
        (-5, "EUR", "-0.05 EUR"),
        (1234, "KWD", "1.234 KWD"),
        (None, "USD", ""),
    ],
)
def test_money_shows_minor_units_as_people_read_them(
    amount: int | None, currency: str, shown: str
) -> None:
    assert money(amount, currency) == shown
