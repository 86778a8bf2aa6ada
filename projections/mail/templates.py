"""The templates every message is rendered from (Jinja2), and the operator's replacements.

Each kind of message has two templates in `projections/mail/templates/`: `<kind>.txt`, the
plain text, whose `{% set subject = "…" %}` line is the subject, and `<kind>.html`, the HTML
(most extend `_layout.html`). A directory named by `VELORA_MAIL_TEMPLATES` is searched first, so
an operator replaces any file, the layout included, by putting one of the same name there, and
keeps the built-in ones for the rest. HTML templates escape every value they show; text ones do
not (`.txt` is plain text). Every template is compiled when Velora starts, so a broken
replacement stops it then (`TemplateProblem`) rather than failing mail by mail later.

What a template may use: `kind`, `storefront_url` (`VELORA_STOREFRONT_URL`, or None), and the
values its sender gives: `email` and `token` for account mail; `order_id`, `seller_order_id`,
`product_id`, `amount_minor` and `currency` for notifications; the filter `money` shows an
amount in minor units as `12.34 USD`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    TemplateError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from eventstore.currencies import minor_unit_exponent
from projections.mail.port import Email

BUILT_IN = Path(__file__).parent / "templates"


class TemplateProblem(RuntimeError):
    """A mail template that cannot be compiled, or a kind of message without templates."""


def money(amount_minor: int | None, currency: str | None) -> str:
    """An amount in minor units as a person reads it: 1234 USD is `12.34 USD`."""
    if amount_minor is None or not currency:
        return ""
    decimals = minor_unit_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), 10**decimals)
    return (
        f"{sign}{whole}.{part:0{decimals}d} {currency}" if decimals else f"{sign}{whole} {currency}"
    )


class MailTemplates:
    def __init__(self, directory: Path | None = None, *, storefront_url: str | None = None) -> None:
        loaders: list[BaseLoader] = [FileSystemLoader(directory)] if directory else []
        loaders.append(PackageLoader("projections.mail", "templates"))
        # Sandboxed: a template, the operator's included, reads the values it is given and
        # calls nothing else.
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            keep_trailing_newline=True,
        )
        self._env.filters["money"] = money
        self._env.globals["storefront_url"] = (storefront_url or "").rstrip("/") or None
        self.directory = directory

    def kinds(self) -> list[str]:
        """Every kind of message there are built-in templates for."""
        return sorted(p.stem for p in BUILT_IN.glob("*.txt"))

    def check(self) -> None:
        """Compiles every template a message may be rendered from, the operator's first."""
        if self.directory is not None and not self.directory.is_dir():
            raise TemplateProblem(f"VELORA_MAIL_TEMPLATES: {self.directory} is not a directory")
        for kind in self.kinds():
            for name in (f"{kind}.txt", f"{kind}.html"):
                try:
                    self._env.get_template(name)
                except TemplateError as e:
                    raise TemplateProblem(f"mail template {name}: {e}") from e

    def render(self, kind: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
        """The subject, plain text and HTML of one message of this kind."""
        values = {**context, "kind": kind}
        text = self._env.get_template(f"{kind}.txt").make_module(values)
        subject = str(getattr(text, "subject", "") or kind.replace("_", " ").capitalize())
        html = self._env.get_template(f"{kind}.html").render(values)
        return " ".join(subject.split()), str(text).strip() + "\n", html

    def compose(
        self,
        kind: str,
        *,
        to: str,
        notification_id: str,
        tenant_id: str,
        recipient_id: str,
        **context: Any,
    ) -> Email:
        """The message of this kind to `to`, rendered."""
        subject, text, html = self.render(kind, context)
        return Email(
            to=to,
            subject=subject,
            text=text,
            html=html,
            kind=kind,
            notification_id=notification_id,
            tenant_id=tenant_id,
            recipient_id=recipient_id,
        )
