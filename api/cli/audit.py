"""The audit trail: an aggregate's history and past states, verifying the chain, the books
and the seals, and sealing a month."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import Progress
from rich.table import Table

from api.cli.common import audit, audited, console, opened, progress_columns
from eventstore.context import CommandContext


@audit.command("history")
def audit_history(
    aggregate_id: Annotated[UUID, typer.Argument(help="the aggregate's id")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per event")] = False,
) -> None:
    """Every event recorded for one aggregate, oldest first, with who caused it."""
    with opened() as container:
        table = Table("version", "type", "timestamp", "actor", "tenant")
        after, more = 0, True
        while more:
            items, more = audited(partial(container.audit.history, aggregate_id, after=after))
            for item in items:
                if as_json:
                    typer.echo(json.dumps(item, sort_keys=True))
                else:
                    table.add_row(
                        str(item["version"]),
                        item["type"],
                        item["timestamp"],
                        str(item["actor"]),
                        str(item["tenant_id"]),
                    )
            after += len(items)
        if not as_json:
            console.print(table)


@audit.command("state")
def audit_state(
    aggregate_id: Annotated[UUID, typer.Argument(help="the aggregate's id")],
    version: Annotated[int | None, typer.Option(help="the state after this version")] = None,
    at: Annotated[
        str | None, typer.Option(help="ISO 8601 with a zone, e.g. 2026-11-21T09:00Z")
    ] = None,
) -> None:
    """The aggregate as it was after a version or at a moment, or now, as JSON."""
    try:
        moment = datetime.fromisoformat(at) if at is not None else None
    except ValueError:
        console.print(f"[red]not an ISO 8601 time:[/red] {at}")
        raise typer.Exit(2) from None
    with opened() as container:
        state = audited(partial(container.audit.state, aggregate_id, version=version, at=moment))
        typer.echo(json.dumps(state, indent=2, sort_keys=True))


@audit.command("verify")
def audit_verify() -> None:
    """Recomputes the chain over every stored event, the trial balance and every seal. Exits 1
    and names the first broken link if anything does not verify."""
    with opened() as container:
        with Progress(*progress_columns(), console=console) as progress:
            task = progress.add_task("verifying events", total=None)
            found = container.verifier.verify(
                lambda done, total: progress.update(task, completed=done, total=total)
            )
        typer.echo(json.dumps(found.report(), indent=2, sort_keys=True))
        if not found.intact:
            console.print("[red]verification failed[/red]")
            raise typer.Exit(1)
        console.print("[green]the chain, the books and every seal verify[/green]")


@audit.command("close")
def audit_close(
    tenant: Annotated[UUID, typer.Option(help="the tenant whose month to seal")],
    period: Annotated[str, typer.Option(help="the month, YYYY-MM; it must be over")],
) -> None:
    """Seals a tenant's month: records the chain's head and the tenant's trial balance, after
    verifying the whole log."""
    with opened() as container:
        ctx = CommandContext.system("cli:audit-close")
        result, seal = audited(
            partial(
                container.operations.operator.seal_period, ctx, tenant, period, datetime.now(UTC)
            )
        )
        console.print(
            f"sealed {period} for {tenant}: chain head {seal.position} "
            f"({seal.chain_hash[:16]}…), recorded at position {result.position}"
        )
