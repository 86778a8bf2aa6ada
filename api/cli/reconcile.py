"""Reconciliation with the payment provider, for an operator: one UTC day reconciled again, by the
service the scheduler reconciles it with (services/reconciliation.py, `ReconciliationRuns`), after
a late webhook booked what the day's result found missing, say."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated
from uuid import UUID

import typer

from api.bootstrap import Container
from api.cli.common import app, audited, console, opened
from domain.reconciliation import Reconciliation, reconciled_from
from eventstore.context import CommandContext
from projections.scope import TenantScope
from services.reconciliation import READ_MODELS

# A day as the API takes it: YYYY-MM-DD, nothing else (date.fromisoformat also reads 20261206
# and 2026-W49-7).
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@app.command()
def reconcile(
    day: Annotated[
        str, typer.Option("--date", help="the UTC day, YYYY-MM-DD; the day after it must be over")
    ],
    tenant: Annotated[
        UUID | None,
        typer.Option(help="only this marketplace (default: every one with activity that day)"),
    ] = None,
) -> None:
    """Reconciles one UTC day with the payment provider again, as the scheduler does, for every
    marketplace with activity that day (or the one named): the fees the ledger lacks are booked
    (never one twice) and the day's result is replaced by this run's, its `run` counting up.
    Prints, per marketplace and currency and in all per currency, how many items matched and
    what either side lacks, with their amounts in minor units. Exit 2: a date that is not one,
    a day that cannot be reconciled yet, or a marketplace that does not exist."""
    on = _day_or_exit(day)
    now = datetime.now(UTC)
    with opened() as container:
        _caught_up(container)
        if tenant is not None and not _exists(container, tenant):
            console.print(f"[red]no marketplace {tenant}[/red]")
            raise typer.Exit(2)
        run = partial(
            container.reconciliation_runs.run_day,
            on,
            now,
            again=True,
            tenant=None if tenant is None else str(tenant),
            ctx=CommandContext.system("cli:reconcile"),
        )
        made = audited(run)
        _caught_up(container)  # the API answers this run at once, workers or not
    if not made:
        whose = "" if tenant is None else f" for marketplace {tenant}"
        typer.echo(f"nothing to reconcile on {on}{whose}: no activity on either side")
        return
    _summary(on, made)


def _day_or_exit(day: str) -> date:
    try:
        if not DAY.fullmatch(day):
            raise ValueError(day)
        on = date.fromisoformat(day)
    except ValueError:
        console.print(f"[red]not a date:[/red] {day!r}; give the UTC day as YYYY-MM-DD")
        raise typer.Exit(2) from None
    due = reconciled_from(on)
    if due > datetime.now(UTC):
        console.print(
            f"[red]{on} cannot be reconciled yet:[/red] a day is reconciled once the day after "
            f"it is over too (UTC), from {due:%Y-%m-%d %H:%M} UTC"
        )
        raise typer.Exit(2)
    return on


def _caught_up(container: Container) -> None:
    """Brings the read models this command reads (the links, the ledger, the recorded days, the
    marketplaces) up to the log's head; a worker doing the same at once is harmless."""
    for runner in container.runners:
        if runner.name in (*READ_MODELS, "identity"):
            runner.catch_up()


def _exists(container: Container, tenant: UUID) -> bool:
    return container.identity_queries.tenant(TenantScope.every_tenant(), str(tenant)) is not None


def _summary(on: date, made: list[Reconciliation]) -> None:
    """One line per marketplace and currency, then one per currency for them all."""
    typer.echo(f"reconciled {on} (amounts in minor units, cents for USD)")
    totals: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for r in made:
        figures = _figures(r)
        typer.echo(f"{r.tenant_id} {r.currency} run {r.run}: {_line(r.currency, figures)}")
        totals[r.currency] = [a + b for a, b in zip(totals[r.currency], figures, strict=True)]
    for currency, figures in sorted(totals.items()):
        typer.echo(f"total {currency}: {_line(currency, figures)}")


def _figures(r: Reconciliation) -> list[int]:
    """What matched, what the ledger and the provider lack (each a count and its amount), and
    the fees the provider kept."""
    return [
        len(r.matched),
        sum(m["amount"]["amount"] for m in r.matched),
        len(r.unmatched_provider),
        sum(i["amount"]["amount"] for i in r.unmatched_provider),
        len(r.unmatched_ledger),
        sum(i["amount"]["amount"] for i in r.unmatched_ledger),
        r.processor_fees_minor,
    ]


def _line(currency: str, f: list[int]) -> str:
    return (
        f"{f[0]} matched ({f[1]} {currency}); "
        f"{f[2]} missing in the ledger ({f[3]} {currency}); "
        f"{f[4]} missing at the provider ({f[5]} {currency}); "
        f"processor fees {f[6]} {currency}"
    )
