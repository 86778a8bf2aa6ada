"""SQLite event store for the embedded default. SQLite has one writer at a time anyway, so there is
nothing to group; immutability is enforced by triggers (SQLite has no privileges to revoke)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from eventstore.chain import GENESIS, link

EVENTS_TABLE = "velora_events"
CHAIN_TABLE = "velora_event_chain"


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
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} "
            "(notification_id INTEGER PRIMARY KEY, hash BLOB NOT NULL)",
            *(
                f"CREATE TRIGGER IF NOT EXISTS {name}_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN {refuse}; END"
                for name, table in (
                    ("velora_immutable", EVENTS_TABLE),
                    ("velora_chain_immutable", CHAIN_TABLE),
                )
                for op in ("UPDATE", "DELETE")
            ),
        ]

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as c:
            link_pending(c)  # whatever was recorded before the chain existed

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        link_pending(c)  # in the same transaction, which SQLite's one writer already orders
        return ids

    def select_chain(self, after: int, upto: int) -> dict[int, bytes]:
        """The stored links of positions in (after, upto]."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(_LINKS, (after, upto))
            return {row[0]: bytes(row[1]) for row in c.fetchall()}

    def select_changes(self, after: int, limit: int) -> list[tuple[int, UUID, int]]:
        """(position, aggregate id, version) of the events after `after`, oldest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(_CHANGES, (after, limit))
            return [(row[0], UUID(row[1]), row[2]) for row in c.fetchall()]

    def close(self) -> None:
        self.datastore.close()


_CHAIN_HEAD = (
    f"SELECT notification_id, hash FROM {CHAIN_TABLE} ORDER BY notification_id DESC LIMIT 1"  # noqa: S608
)
_UNLINKED = (
    # SQLite's rowid is the event's position (the library's notification id).
    "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
    f"FROM {EVENTS_TABLE} WHERE rowid > ? ORDER BY rowid"
)
_CHANGES = (
    "SELECT rowid, originator_id, originator_version "  # noqa: S608
    f"FROM {EVENTS_TABLE} WHERE rowid > ? ORDER BY rowid LIMIT ?"
)
_LINK = f"INSERT INTO {CHAIN_TABLE} (notification_id, hash) VALUES (?, ?)"  # noqa: S608
_LINKS = f"SELECT notification_id, hash FROM {CHAIN_TABLE} WHERE notification_id > ? AND notification_id <= ?"  # noqa: S608, E501


def link_pending(c: SQLiteCursor) -> None:
    """Links every event not linked yet, in position order."""
    c.execute(_CHAIN_HEAD)
    row = c.fetchone()
    last, previous = (row[0], bytes(row[1])) if row else (0, GENESIS)
    c.execute(_UNLINKED, (last,))
    for position, originator_id, version, topic, state in c.fetchall():
        previous = link(previous, position, originator_id, version, topic, state)
        c.execute(_LINK, (position, previous))
