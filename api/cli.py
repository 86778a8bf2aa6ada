"""The `velora` command."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar
from uuid import UUID

import eventsourcing.persistence
import sqlalchemy.exc
import typer
from prometheus_client import start_http_server
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from api import logs
from api.bootstrap import RELAY, Container, build
from api.metrics import Metrics, lag_gauges, projection_gauges
from api.settings import Settings, SettingsError
from domain.errors import DomainError
from eventstore import backup as backups
from eventstore.context import CommandContext
from projections.notifications import CONSUMER as NOTIFICATIONS
from projections.notifications import Handled
from projections.rebuild import ModelRebuildReport, RebuildRunning
from projections.runner import ProjectionFailed
from projections.search.rebuild import RebuildReport

app = typer.Typer(help="Velora: event-sourced marketplace backend.", no_args_is_help=True)
admin = typer.Typer(help="Operator tasks.", no_args_is_help=True)
projections = typer.Typer(help="Read-model projections.", no_args_is_help=True)
app.add_typer(admin, name="admin")
app.add_typer(projections, name="projections")
audit = typer.Typer(help="The audit trail: history and as-of state.", no_args_is_help=True)
app.add_typer(audit, name="audit")
consume = typer.Typer(help="Consumers of the events Velora publishes.", no_args_is_help=True)
app.add_typer(consume, name="consume")
console = Console()


def _logging(settings: Settings) -> None:
    logs.configure(settings.log_level, json=settings.log_format == "json")


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (docker stop) or SIGINT (Ctrl-C), for a worker to finish on."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _worker_metrics(container: Container, port: int | None) -> Metrics:
    """A worker's metrics, served on their own port when one is given."""
    metrics = Metrics()
    metrics.watch(
        "lags",
        lag_gauges(container.log.head, container.projector_positions, container.relay_positions),
    )
    metrics.watch("projectors", projection_gauges(container.operations.health))
    if port is not None:
        start_http_server(port, registry=metrics.registry)
    return metrics


# A database that is not up yet (or not reachable from here).
UNREACHABLE = (
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
)

MetricsPort = Annotated[
    int | None, typer.Option(help="serve Prometheus metrics on this port", min=1, max=65535)
]


def _settings() -> Settings:
    try:
        return Settings()
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None


def _container() -> Container:
    try:
        return build(_settings())
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None


@contextmanager
def _opened() -> Iterator[Container]:
    """The container for one command, closed however the command ends."""
    container = _container()
    try:
        yield container
    finally:
        container.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[
        int,
        typer.Option(help="API processes sharing the port (stateless; scale with cores)", min=1),
    ] = 1,
    background: Annotated[
        bool,
        typer.Option(
            help="run the projectors and the scheduler here too, once whatever --workers is "
            "(--no-background when `velora project` and `velora scheduler` run on their own)"
        ),
    ] = True,
) -> None:
    """Runs the API, by default with the projectors and the scheduler beside it."""
    import uvicorn

    from api.app import create_app

    container = _container()
    _logging(container.settings)
    if container.settings.embedded:
        # The laptop default sets itself up; real servers are migrated by `velora migrate`.
        container.migrate()
        console.print(
            f"embedded mode: data in [bold]{container.settings.data_dir.resolve()}[/bold]"
        )
    # Velora writes its own access log (JSON, with request id, tenant and user).
    quiet = {"host": host, "port": port, "log_config": None, "access_log": False}
    try:
        if workers == 1:
            uvicorn.run(create_app(container, run_projections=background), **quiet)  # type: ignore[arg-type]
            return
        # N API processes, each with its own container, behind one port; the projectors and the
        # scheduler run once, in this supervising process, so nothing is projected twice.
        if background:
            container.start_projections()
            container.scheduler.start()
        try:
            uvicorn.run("api.app:api_process", factory=True, workers=workers, **quiet)  # type: ignore[arg-type]
        finally:
            container.scheduler.stop()
            container.stop_projections()
    finally:
        container.close()


@app.command()
def migrate(
    wait_s: Annotated[
        float, typer.Option(help="keep trying this long while a database is not up yet", min=0)
    ] = 0.0,
) -> None:
    """Creates or upgrades the event store and the read-model schema (a deployment's prestart
    step: with --wait-s it first waits for the databases to accept connections)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with _opened() as container:
                container.migrate()
                console.print(
                    f"migrated event store ({container.log.backend}) and read models "
                    f"({container.read_store.backend})"
                )
                return
        except UNREACHABLE as e:
            if time.monotonic() >= deadline:
                console.print(f"[red]a database is unreachable:[/red] {e}")
                raise typer.Exit(1) from None
            console.print(f"waiting for the databases: {type(e).__name__}")
            time.sleep(2.0)


@contextmanager
def _worker(metrics_port: int | None) -> Iterator[tuple[Container, Metrics, threading.Event]]:
    """A worker's container, JSON logs, metrics and stop signal, closed however the worker
    ends. A configuration it cannot run with (no broker, say) is refused with exit code 2."""
    container = _container()
    try:
        _logging(container.settings)
        yield container, _worker_metrics(container, metrics_port), _stop_on_signals()
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None
    finally:
        container.close()


@app.command()
def project(metrics_port: MetricsPort = None) -> None:
    """Runs the projectors as a worker until interrupted."""
    with _worker(metrics_port) as (container, _, stop):
        container.start_projections()
        console.print(f"projecting: {', '.join(r.name for r in container.runners)}")
        while not stop.wait(1.0):
            if all(r.failure is not None for r in container.runners):
                break
        failed = [r for r in container.runners if r.failure is not None]
        for runner in failed:
            console.print(f"[red]{runner.failure}[/red]")
        raise typer.Exit(1 if failed else 0)


@app.command()
def scheduler(
    interval_s: Annotated[float, typer.Option(help="seconds between passes")] = 5.0,
    metrics_port: MetricsPort = None,
) -> None:
    """Runs the scheduler (expiry of unpaid orders) as a worker until interrupted."""
    with _worker(metrics_port) as (container, _, stop):
        container.scheduler.interval_s = interval_s
        container.scheduler.start()
        console.print(f"scheduler running every {interval_s} s")
        try:
            stop.wait()
        finally:
            container.scheduler.stop()


@app.command()
def relay(
    metrics_port: MetricsPort = None,
    batch_size: Annotated[
        int, typer.Option(help="log events per batch the broker acknowledges", min=1)
    ] = 500,
) -> None:
    """Publishes the event log to Kafka as CloudEvents until stopped (needs
    VELORA_KAFKA_BOOTSTRAP). Resumes after the last position the broker acknowledged."""
    with _worker(metrics_port) as (container, metrics, stop):
        published = metrics.relayed.labels(RELAY)
        worker = container.relay(on_batch=lambda batch: published.inc(batch.messages))
        worker.batch_size = batch_size
        console.print(
            f"relaying to {container.settings.kafka_bootstrap} from position {worker.position()}"
        )
        worker.run(stop)


@consume.command("notifications")
def consume_notifications(
    metrics_port: MetricsPort = None,
    batch_size: Annotated[
        int, typer.Option(help="records applied per transaction at most", min=1)
    ] = 200,
) -> None:
    """Turns published order and payment events into notifications for buyers and sellers,
    each exactly once, and hands them to the email port (which by default only logs)."""
    with _worker(metrics_port) as (container, metrics, stop):

        def count(handled: Handled) -> None:
            for outcome, n in vars(handled).items():
                metrics.consumed.labels(NOTIFICATIONS, outcome).inc(n)

        consumer = container.notifications(on_handled=count)
        container.require_broker()
        console.print(f"consuming {consumer.name} from {container.settings.kafka_bootstrap}")
        consumer.run(partial(container.notification_source, max_records=batch_size), stop)


@admin.command("create-superuser")
def create_superuser(
    email: Annotated[str, typer.Option(help="the super admin's email")],
    password: Annotated[
        str, typer.Option(help="at least 8 characters", prompt=True, hide_input=True)
    ],
) -> None:
    """Creates the platform's super admin (idempotent per email)."""

    container = _container()
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
    with _opened() as container:
        console.print(container.webhook_secret)


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="a directory that does not exist yet, or is empty")],
) -> None:
    """Backs up what cannot be rebuilt, while Velora keeps running: the event log (SQLite's
    online backup, or pg_dump's snapshot of the event store) and the media files under the data
    dir. Read models and the search index are rebuilt from the log on restore."""
    settings = _settings()
    began = time.monotonic()
    try:
        manifest = backups.backup(
            settings.eventstore_url,
            settings.data_dir,
            dest,
            media=not settings.s3_bucket,
        )
    except backups.BackupError as e:
        console.print(f"[red]backup failed:[/red] {e}")
        raise typer.Exit(1) from None
    console.print(
        f"backed up the {manifest.backend} event log"
        f"{' and the media files' if manifest.media else ''} into {dest} "
        f"in {time.monotonic() - began:.1f} s"
    )


@app.command("restore")
def restore_command(
    source: Annotated[Path, typer.Argument(help="a directory `velora backup` wrote")],
) -> None:
    """Restores a backup into an empty event store (a fresh database, or a data dir without a
    log), then migrates, folds every read model from the restored log and rebuilds the search
    index, so the deployment can start serving as it was when the backup was taken."""
    settings = _settings()
    began = time.monotonic()
    try:
        manifest = backups.restore(settings.eventstore_url, settings.data_dir, source)
    except backups.BackupError as e:
        console.print(f"[red]restore failed, nothing changed:[/red] {e}")
        raise typer.Exit(1) from None
    loaded = time.monotonic()
    with _opened() as container:
        container.migrate()
        container.catch_up()
        search = container.operations.rebuild_search(lambda *_: None)
        head = container.log.head()
    console.print(
        f"restored the {manifest.backend} event log of {manifest.created_at} (head {head}) in "
        f"{loaded - began:.1f} s; read models and {search.documents} search documents rebuilt "
        f"in {time.monotonic() - loaded:.1f} s"
    )


@projections.command("status")
def projections_status() -> None:
    """Shows each projector's position, the log's head, the lag, and the tenants each
    quarantines (with why)."""
    with _opened() as container:
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
    with _opened() as container:
        ctx = CommandContext.system("cli:projections-replay")
        replayed, recorded = _audited(
            partial(container.operations.replay, ctx, tenant, names or [])
        )
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
    with _opened() as container:
        if name not in {r.name for r in container.runners}:
            console.print(f"[red]no projector {name!r}[/red]")
            raise typer.Exit(2)
        ctx = CommandContext.system("cli:projections-skip")
        recorded = _audited(partial(container.operations.skip_event, ctx, name, position))
        console.print(f"{name} moved past {position}; the skip is recorded at {recorded}")


@audit.command("history")
def audit_history(
    aggregate_id: Annotated[UUID, typer.Argument(help="the aggregate's id")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per event")] = False,
) -> None:
    """Every event recorded for one aggregate, oldest first, with who caused it."""
    with _opened() as container:
        table = Table("version", "type", "timestamp", "actor", "tenant")
        after, more = 0, True
        while more:
            items, more = _audited(partial(container.audit.history, aggregate_id, after=after))
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
    with _opened() as container:
        state = _audited(partial(container.audit.state, aggregate_id, version=version, at=moment))
        typer.echo(json.dumps(state, indent=2, sort_keys=True))


@audit.command("verify")
def audit_verify() -> None:
    """Recomputes the chain over every stored event, the trial balance and every seal. Exits 1
    and names the first broken link if anything does not verify."""
    with _opened() as container:
        with Progress(*_progress_columns(), console=console) as progress:
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
    with _opened() as container:
        ctx = CommandContext.system("cli:audit-close")
        result, seal = _audited(
            partial(
                container.operations.operator.seal_period, ctx, tenant, period, datetime.now(UTC)
            )
        )
        console.print(
            f"sealed {period} for {tenant}: chain head {seal.position} "
            f"({seal.chain_hash[:16]}…), recorded at position {result.position}"
        )


T = TypeVar("T")


def _audited(read: Callable[[], T]) -> T:
    try:
        return read()
    except DomainError as e:
        console.print(f"[red]{e.title}:[/red] {e.detail}")
        raise typer.Exit(1) from None


class RateColumn(ProgressColumn):
    """Items per second: products while indexing the snapshot, events while catching up."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


def _progress_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )


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
    with _opened() as container:
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
                with Progress(*_progress_columns(), console=console) as progress:
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
            with Progress(*_progress_columns(), console=console) as progress:
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


def main() -> None:
    app()
