"""Backup and restore of what cannot be rebuilt: the event log (with the per-person keys and
the relay's positions beside it) and, on the embedded default, the media files. Read models
and the search index are folded again from the restored log.

- SQLite: SQLite's online backup copies the database page by page while writers go on; the copy
  is the log as it stood at one commit.
- PostgreSQL: `pg_dump --format=custom` reads the database in one snapshot (REPEATABLE READ)
  while writers go on; `pg_restore` loads it, in one transaction, into a fresh database.

A backup is a directory: `manifest.json`, `events.sqlite3` or `events.dump`, `media/` where
the files live under the data directory, and `secret_key` where the embedded default keeps its
key there (without it the personal data sealed in the log could not be opened: keep the backup
as secret as the key)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

FORMAT = 1
MANIFEST = "manifest.json"
KEY_FILE = "secret_key"  # the embedded default's key file (api/settings.py)


class BackupError(Exception):
    """The backup or restore cannot be made as asked; nothing was changed."""


@dataclass(frozen=True)
class Manifest:
    format: int
    backend: str  # sqlite | postgres
    created_at: str
    events: str  # the file holding the log
    media: bool  # whether media files were copied
    secret_key: bool  # whether the embedded default's key file was copied


def _libpq(url: str) -> str:
    """The event store URL as pg_dump and psycopg take it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def backup(eventstore_url: str | None, data_dir: Path, dest: Path, *, media: bool) -> Manifest:
    """Copies the event log (and the media files under the data dir when `media`) into `dest`,
    which must not exist yet or be empty."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    if eventstore_url:
        events = "events.dump"
        _run(
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={dest / events}",
            f"--dbname={_libpq(eventstore_url)}",
        )
    else:
        events = "events.sqlite3"
        source = data_dir / events
        if not source.exists():
            raise BackupError(f"no event log at {source}")
        # One step (all pages under one read transaction): in WAL mode writers go on meanwhile,
        # and the copy is the log as of the moment the step began.
        with (
            closing(sqlite3.connect(source)) as live,
            closing(sqlite3.connect(dest / events)) as copy,
        ):
            live.backup(copy)
    copied = media and (data_dir / "media").is_dir()
    if copied:
        shutil.copytree(data_dir / "media", dest / "media")
    key = data_dir / KEY_FILE
    if key.exists():
        shutil.copy2(key, dest / KEY_FILE)
    manifest = Manifest(
        format=FORMAT,
        backend="postgres" if eventstore_url else "sqlite",
        created_at=datetime.now(UTC).isoformat(),
        events=events,
        media=copied,
        secret_key=key.exists(),
    )
    (dest / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2))
    return manifest


def restore(eventstore_url: str | None, data_dir: Path, source: Path) -> Manifest:
    """Loads a backup into an event store that holds nothing yet (a fresh database, or a data
    dir without a log); refuses otherwise, changing nothing."""
    try:
        manifest = Manifest(**json.loads((source / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as e:
        raise BackupError(f"{source} holds no Velora backup: {e}") from e
    if manifest.format != FORMAT:
        raise BackupError(f"backup format {manifest.format} is not {FORMAT}")
    wanted = "postgres" if eventstore_url else "sqlite"
    if manifest.backend != wanted:
        raise BackupError(f"a {manifest.backend} backup cannot be restored into {wanted}")
    key = data_dir / KEY_FILE
    backed_up = (source / KEY_FILE).read_text().strip() if manifest.secret_key else None
    if backed_up is not None and key.exists() and key.read_text().strip() != backed_up:
        raise BackupError(f"{key} is another key than the backup's: the sealed data would be lost")
    if eventstore_url:
        url = _libpq(eventstore_url)
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchone()
        if tables and tables[0]:
            raise BackupError("the event store database is not empty: restore into a fresh one")
        _run(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url}",
            str(source / manifest.events),
        )
    else:
        target = data_dir / manifest.events
        if target.exists():
            raise BackupError(f"{target} exists: restore into a data dir without an event log")
        data_dir.mkdir(parents=True, exist_ok=True)
        with (
            closing(sqlite3.connect(source / manifest.events)) as copy,
            closing(sqlite3.connect(target)) as live,
        ):
            copy.backup(live)
    if manifest.media:
        shutil.copytree(source / "media", data_dir / "media", dirs_exist_ok=True)
    if manifest.secret_key and not key.exists():
        shutil.copy2(source / KEY_FILE, key)
    return manifest


def _run(*command: str) -> None:
    try:
        # The command is pg_dump or pg_restore with the configured URL: no shell, no user input.
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    except FileNotFoundError as e:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)") from e
    except subprocess.CalledProcessError as e:
        raise BackupError(f"{command[0]} failed: {e.stderr.strip()[-2000:]}") from e
