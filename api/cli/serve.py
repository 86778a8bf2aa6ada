"""Running Velora: the API (with the projectors, the scheduler and the webhook dispatcher beside
it, by default) and
the migrations a deployment runs first."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from api.cli.common import UNREACHABLE, app, configure_logs, console, container_or_exit, opened


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
            help="run the projectors, the scheduler and the webhook dispatcher here too, once "
            "whatever --workers is (--no-background when `velora project`, `velora scheduler` "
            "and `velora webhooks` run on their own)"
        ),
    ] = True,
) -> None:
    """Runs the API, by default with the projectors, the scheduler and the webhook dispatcher
    beside it."""
    import uvicorn

    from api.app import create_app

    container = container_or_exit()
    configure_logs(container.settings)
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
            container.start_background()
        try:
            uvicorn.run("api.app:api_process", factory=True, workers=workers, **quiet)  # type: ignore[arg-type]
        finally:
            container.stop_background()
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
            with opened() as container:
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
