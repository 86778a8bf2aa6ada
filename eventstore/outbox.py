"""The outbox is the event log itself: an event and its publication come from the same committed
record, so nothing is ever written twice. What the outbox adds is where each relay has got to,
kept in `velora_relay_positions` beside the log and moved only after the broker has acknowledged
everything up to that position."""

from __future__ import annotations

from datetime import UTC, datetime

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from eventstore.sidetable import SideTable

POSITIONS_TABLE = "velora_relay_positions"

_STATEMENTS = {
    "create": (
        "CREATE TABLE IF NOT EXISTS {table} (name {text} PRIMARY KEY, "
        "position {bigint} NOT NULL, updated_at {time} NOT NULL)"
    ),
    "read": "SELECT position FROM {table} WHERE name = {p}",
    # Never backwards: a relay that lost its lock and resumed late cannot undo a newer position.
    "write": (
        "INSERT INTO {table} (name, position, updated_at) VALUES ({p}, {p}, {p}) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
        "updated_at = excluded.updated_at WHERE {name}.position < excluded.position"
    ),
}


class RelayPositions:
    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self._table = SideTable(datastore, POSITIONS_TABLE, _STATEMENTS)

    def create_table(self) -> None:
        self._table.execute("create")

    def get(self, name: str) -> int:
        """The position up to which the named relay has published everything (0: nothing)."""
        row = self._table.fetchone("read", name)
        return int(row["position"]) if row else 0

    def set(self, name: str, position: int) -> None:
        self._table.execute("write", name, position, datetime.now(UTC))
