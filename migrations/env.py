"""Alembic environment. `velora migrate` passes its own connection in; the plain `alembic` command
builds one from VELORA_READ_DB_URL (or the embedded SQLite file)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import context

from projections.store import make_engine
from projections.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(
        os.environ.get("VELORA_READ_DB_URL"), Path(os.environ.get("VELORA_DATA_DIR", ".velora"))
    )
    with engine.begin() as conn:
        _migrate(conn)


def _migrate(connection: object) -> None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
