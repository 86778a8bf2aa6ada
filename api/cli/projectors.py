"""The read-model projections: where each projector stands, replaying a quarantined tenant,
skipping a bad event, and rebuilding models beside the live ones."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import Progress
from rich.table import Table

from api.cli.common import audited, console, opened, progress_columns, projections
from eventstore.context import CommandContext
from projections.rebuild import ModelRebuildReport, RebuildRunning
from projections.runner import ProjectionFailed
from projections.search.rebuild import RebuildReport


@projections.command("status")
def projections_status() -> None:
    """Shows each projector's position, the log's head, the lag, and the tenants each
    quarantines (with why)."""
    with opened() as container:
        rows = container.operations.projection_status()
        table = Table("name", "position", "head", "lag", "state")
        for row in rows:
            stopped = row["failed_position"]
            state = f"stopped at {stopped}: {row['failure']}" if stopped else "ok"
            if row["paused_by"]:
                state = f"paused by {row['paused_by']}"
            if row["quarantined"]:
                state = f"{state}; quarantines {len(row['quarantined'])} tenant(s)"
            table.add_row(
                row["name"], str(row["position"]), str(row["head"]), str(row["lag"]), state
            )
        console.print(table)
        for row in rows:
            for q in row["quarantined"]:
                console.print(
                    f"{row['name']} quarantines tenant {q['tenant_id']} from position "
                    f"{q['position']}: {q['failure']}"
                )


@projections.command("replay")
def projections_replay(
    tenant: Annotated[UUID, typer.Option(help="the tenant whose quarantined events to apply")],
    names: Annotated[
        list[str] | None, typer.Argument(help="the projectors (default: all that hold it)")
    ] = None,
) -> None:
    """Applies the events of a tenant that projectors quarantined after failing on one of them
    (quarantine), once the projector is fixed, and lifts the quarantine. Upstream projectors
    go first; one that still fails keeps the tenant quarantined and says why (exit code 1)."""
    with opened() as container:
        ctx = CommandContext.system("cli:projections-replay")
        replayed, recorded = audited(partial(container.operations.replay, ctx, tenant, names or []))
        for name, count in replayed.items():
            console.print(f"{name}: {count} events of {tenant} applied")
        console.print(f"the replay is recorded at {recorded}")


@projections.command("skip")
def projections_skip(
    name: Annotated[str, typer.Argument(help="the stopped projector")],
    position: Annotated[int, typer.Option(help="the position of the event it stopped on")],
) -> None:
    """Moves a projector that stopped on a bad event past that event. Its read model will lack
    that event's effect; the decision is recorded in the log with who made it."""
    with opened() as container:
        if name not in {r.name for r in container.runners}:
            console.print(f"[red]no projector {name!r}[/red]")
            raise typer.Exit(2)
        ctx = CommandContext.system("cli:projections-skip")
        recorded = audited(partial(container.operations.skip_event, ctx, name, position))
        console.print(f"{name} moved past {position}; the skip is recorded at {recorded}")


@projections.command("rebuild")
def projections_rebuild(
    name: Annotated[
        str | None, typer.Argument(help="a projector (see `projections status`), or search")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="every SQL read model, then the search index")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="swap in rebuilt models whose checksums differ")
    ] = False,
) -> None:
    """Rebuilds read models beside the live ones while the API keeps serving them, and swaps
    them in atomically once caught up. SQL models are swapped only if their row counts and
    money sums match the live ones, unless --force is given."""
    if every == (name is not None):
        console.print("[red]name one projection, or give --all[/red]")
        raise typer.Exit(2)
    with opened() as container:
        rebuildable = [*container.operations.rebuildable_models(), "search"]
        if name is not None and name not in rebuildable:
            console.print(
                f"[red]cannot rebuild {name!r}:[/red] rebuildable: {', '.join(rebuildable)}"
            )
            raise typer.Exit(2)
        if every:
            models = container.operations.rebuildable_models()
        else:
            models = [name] if name is not None and name != "search" else []
        if models:
            try:
                with Progress(*progress_columns(), console=console) as progress:
                    report = container.operations.rebuild_models(
                        models, force=force, on_progress=_tracked(progress, MODEL_PHASES)
                    )
            except (RebuildRunning, ProjectionFailed) as e:
                console.print(f"[red]rebuild failed, the live tables are unchanged:[/red] {e}")
                raise typer.Exit(1) from None
            _print_model_report(report)
            if not report.swapped:
                raise typer.Exit(1)
        if every or name == "search":
            with Progress(*progress_columns(), console=console) as progress:
                search = container.operations.rebuild_search(_tracked(progress, SEARCH_PHASES))
            _print_search_report(search)


MODEL_PHASES = {"build": "folding events", "verify": "comparing tables"}
SEARCH_PHASES = {"snapshot": "indexing products", "catch-up": "catching up events"}


def _tracked(progress: Progress, phases: dict[str, str]) -> Callable[[str, int, int], None]:
    tasks = {phase: progress.add_task(label, total=None) for phase, label in phases.items()}

    def on_progress(phase: str, done: int, total: int) -> None:
        if phase in tasks:
            progress.update(tasks[phase], completed=done, total=total)

    return on_progress


def _print_model_report(report: ModelRebuildReport) -> None:
    counts = Table("table", "live rows", "rebuilt rows")
    for count in report.tables:
        counts.add_row(count.table, str(count.live_rows), str(count.rebuilt_rows))
    console.print(counts)
    for d in report.differences:
        group = " ".join(f"{k}={v}" for k, v in d.group.items())
        console.print(
            f"[yellow]differs[/yellow] {d.table}.{d.measure} {group}: live {d.live}, "
            f"rebuilt {d.rebuilt} ({d.rebuilt - d.live:+})",
            soft_wrap=True,
        )
    rate = report.position / report.elapsed_s if report.elapsed_s else 0.0
    summary = (
        f"{', '.join(report.projectors)} at position {report.position}, "
        f"{report.elapsed_s:.2f} s ({rate:,.0f} events/s)"
    )
    if not report.swapped:
        console.print(
            f"[red]not swapped:[/red] {len(report.differences)} checksum(s) differ; the live "
            f"tables are unchanged. Give --force to swap anyway. ({summary})"
        )
    elif report.differences:
        console.print(
            f"[yellow]swapped despite {len(report.differences)} difference(s)[/yellow]: {summary}"
        )
    else:
        console.print(f"[green]swapped[/green], every checksum matched: {summary}")


def _print_search_report(report: RebuildReport) -> None:
    table = Table("rebuilt", "was", "now", "documents", "events caught up", "position", "took")
    table.add_row(
        "search",
        report.previous,
        report.generation,
        str(report.documents),
        str(report.events),
        str(report.position),
        f"{report.elapsed_s:.2f} s",
    )
    console.print(table)
