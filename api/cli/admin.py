"""Operator tasks: the platform's super admin, and the secret payment webhooks are signed with."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import admin, console, container_or_exit, opened
from domain.errors import DomainError
from eventstore.context import CommandContext


@admin.command("create-superuser")
def create_superuser(
    email: Annotated[str, typer.Option(help="the super admin's email")],
    password: Annotated[
        str, typer.Option(help="at least 8 characters", prompt=True, hide_input=True)
    ],
) -> None:
    """Creates the platform's super admin (idempotent per email)."""

    container = container_or_exit()
    try:
        if container.settings.embedded:
            container.migrate()
        result = container.identity.ensure_superuser(
            CommandContext.system("cli:create-superuser"), email=email, password=password
        )
    except DomainError as e:
        console.print(f"[red]{e.title}:[/red] {e.detail}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    verb = "created" if result.created else "already exists:"
    console.print(f"super admin {verb} {result.id}")


@admin.command("webhook-secret")
def webhook_secret() -> None:
    """Prints the secret payment webhooks must be signed with (VELORA_STRIPE_WEBHOOK_SECRET, or
    on the embedded default the one derived from the data dir's key)."""
    with opened() as container:
        console.print(container.webhook_secret)
