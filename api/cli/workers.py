"""The workers a deployment runs beside the API: the projectors, the scheduler, the webhook
dispatcher, the relay to Kafka and the notifications consumer."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from api.bootstrap import RELAY
from api.cli.common import MetricsPort, app, as_worker, console, consume
from projections.notifications.consumer import CONSUMER as NOTIFICATIONS
from projections.notifications.consumer import Handled


@app.command()
def project(metrics_port: MetricsPort = None) -> None:
    """Runs the projectors as a worker until interrupted."""
    with as_worker(metrics_port) as (container, _, stop):
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
    with as_worker(metrics_port) as (container, _, stop):
        container.scheduler.interval_s = interval_s
        container.scheduler.start()
        console.print(f"scheduler running every {interval_s} s")
        try:
            stop.wait()
        finally:
            container.scheduler.stop()


@app.command()
def webhooks(metrics_port: MetricsPort = None) -> None:
    """Sends webhook deliveries to the marketplaces' endpoints until interrupted. Several may
    run: each claims the deliveries it sends, and one killed leaves its claims to run out."""
    with as_worker(metrics_port) as (container, metrics, stop):
        dispatcher = container.webhook_dispatcher
        dispatcher.on_outcome = lambda status: metrics.webhook_deliveries.labels(status).inc()
        dispatcher.start()
        console.print(f"webhook dispatcher {dispatcher.name} running")
        try:
            stop.wait()
        finally:
            dispatcher.stop()


@app.command()
def relay(
    metrics_port: MetricsPort = None,
    batch_size: Annotated[
        int, typer.Option(help="log events per batch the broker acknowledges", min=1)
    ] = 500,
) -> None:
    """Publishes the event log to Kafka as CloudEvents until stopped (needs
    VELORA_KAFKA_BOOTSTRAP). Resumes after the last position the broker acknowledged."""
    with as_worker(metrics_port) as (container, metrics, stop):
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
    with as_worker(metrics_port) as (container, metrics, stop):

        def count(handled: Handled) -> None:
            for outcome, n in vars(handled).items():
                metrics.consumed.labels(NOTIFICATIONS, outcome).inc(n)

        consumer = container.notifications(on_handled=count)
        container.require_broker()
        console.print(f"consuming {consumer.name} from {container.settings.kafka_bootstrap}")
        consumer.run(partial(container.notification_source, max_records=batch_size), stop)
