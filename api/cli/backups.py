"""Backing up what cannot be rebuilt, and restoring it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import app, console, opened, settings_or_exit
from eventstore import backup as backups


@app.command("backup")
def backup_command(
    dest: Annotated[Path, typer.Argument(help="a directory that does not exist yet, or is empty")],
) -> None:
    """Backs up what cannot be rebuilt, while Velora keeps running: the event log (SQLite's
    online backup, or pg_dump's snapshot of the event store) and the media files under the data
    dir. Read models and the search index are rebuilt from the log on restore."""
    settings = settings_or_exit()
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
    settings = settings_or_exit()
    began = time.monotonic()
    try:
        manifest = backups.restore(settings.eventstore_url, settings.data_dir, source)
    except backups.BackupError as e:
        console.print(f"[red]restore failed, nothing changed:[/red] {e}")
        raise typer.Exit(1) from None
    loaded = time.monotonic()
    with opened() as container:
        container.migrate()
        container.catch_up()
        search = container.operations.rebuild_search(lambda *_: None)
        head = container.log.head()
    console.print(
        f"restored the {manifest.backend} event log of {manifest.created_at} (head {head}) in "
        f"{loaded - began:.1f} s; read models and {search.documents} search documents rebuilt "
        f"in {time.monotonic() - loaded:.1f} s"
    )
