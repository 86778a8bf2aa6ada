"""What the `velora` commands share: the command groups, the console, and how a command
gets its settings, its container and, for a worker, its metrics and stop signal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import eventsourcing.persistence
import sqlalchemy.exc
import typer
from prometheus_client import start_http_server
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from api import logs
from api.bootstrap import Container, build
from api.metrics import Metrics, lag_gauges, projection_gauges
from api.settings import Settings, SettingsError
from domain.errors import DomainError

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


def configure_logs(settings: Settings) -> None:
    logs.configure(settings.log_level, json=settings.json_logs)


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM (docker stop) or SIGINT (Ctrl-C), for a worker to finish on."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def worker_metrics(container: Container, port: int | None) -> Metrics:
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


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None


def container_or_exit() -> Container:
    try:
        return build(settings_or_exit())
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None


@contextmanager
def opened() -> Iterator[Container]:
    """The container for one command, closed however the command ends."""
    container = container_or_exit()
    try:
        yield container
    finally:
        container.close()


@contextmanager
def as_worker(metrics_port: int | None) -> Iterator[tuple[Container, Metrics, threading.Event]]:
    """A worker's container, JSON logs, metrics and stop signal, closed however the worker
    ends. A configuration it cannot run with (no broker, say) is refused with exit code 2."""
    container = container_or_exit()
    try:
        configure_logs(container.settings)
        yield container, worker_metrics(container, metrics_port), stop_on_signals()
    except SettingsError as e:
        console.print(f"[red]refusing to start:[/red] {e}")
        raise typer.Exit(2) from None
    finally:
        container.close()


T = TypeVar("T")


def audited(read: Callable[[], T]) -> T:
    try:
        return read()
    except DomainError as e:
        console.print(f"[red]{e.title}:[/red] {e.detail}")
        raise typer.Exit(1) from None


class RateColumn(ProgressColumn):
    """Items per second: products while indexing the snapshot, events while catching up."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


def progress_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
    )
