"""SQLite event store for the embedded default. SQLite has one writer at a time anyway, so there is
nothing to group; immutability is enforced by triggers (SQLite has no privileges to revoke)."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

EVENTS_TABLE = "velora_events"


def datastore_for(path: Path) -> SQLiteDatastore:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A generous lock timeout: the projector, the API and the CLI share the file.
    return SQLiteDatastore(str(path), lock_timeout=30, pool_size=8, max_overflow=8)


class ImmutableSQLiteRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore) -> None:
        super().__init__(datastore, events_table_name=EVENTS_TABLE)

    def construct_create_table_statements(self) -> list[str]:
        refuse = "SELECT RAISE(ABORT, 'velora: stored events are immutable')"
        return [
            *super().construct_create_table_statements(),
            f"CREATE TRIGGER IF NOT EXISTS velora_immutable_update BEFORE UPDATE ON "
            f"{EVENTS_TABLE} BEGIN {refuse}; END",
            f"CREATE TRIGGER IF NOT EXISTS velora_immutable_delete BEFORE DELETE ON "
            f"{EVENTS_TABLE} BEGIN {refuse}; END",
        ]

    def close(self) -> None:
        self.datastore.close()
