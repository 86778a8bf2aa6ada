"""The event log: one notification log shared by every application, so a position means the
same thing everywhere (the read-your-writes header, projector tracking, the relay)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import psycopg
from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore

from eventstore.cache import AggregateCache
from eventstore.locks import Busy, LockLost, StillHeld, file_lock
from eventstore.mapper import EnvelopeMapper, RecordedEvent
from eventstore.outbox import POSITIONS_TABLE, RelayPositions
from eventstore.personal import KEYS_TABLE, PersonalKeys
from eventstore.postgres import GroupCommitRecorder, datastore_from_url
from eventstore.sqlite import ImmutableSQLiteRecorder, datastore_for

SNAPSHOTS_TABLE = "velora_snapshots"


@dataclass
class EventLog:
    recorder: ApplicationRecorder
    mapper: EnvelopeMapper
    backend: Literal["postgres", "sqlite"]
    # Aggregates' state every so many versions, for as-of reads of long streams. Derived from
    # the events and replaceable, so unlike them not immutable.
    snapshots: AggregateRecorder
    # Per-person keys sealing personal fields: beside the log, destroyed on erasure.
    keys: PersonalKeys
    # Where each relay has got to in publishing the log (the log is its outbox).
    relay_positions: RelayPositions
    # The aggregates this process has loaded or saved, shared by its applications.
    aggregates: AggregateCache = field(init=False)

    def __post_init__(self) -> None:
        self.aggregates = AggregateCache(self.recorder.select_changes, self.head)  # type: ignore[attr-defined]
        # Cached aggregates hold personal fields opened with keys; an erasure forgets them all.
        self.keys.on_destroyed = lambda _: self.aggregates.clear()

    def migrate(self) -> None:
        """Creates the events table, its indexes and its immutability guards, the snapshots
        table and the personal keys table (idempotent)."""
        self.recorder.create_table()  # type: ignore[attr-defined]
        self.snapshots.create_table()  # type: ignore[attr-defined]
        self.keys.create_table()
        self.relay_positions.create_table()
        if isinstance(self.recorder, GroupCommitRecorder):
            self.recorder.grant_writer(SNAPSHOTS_TABLE)
            self.recorder.grant_writer(KEYS_TABLE, update=True)
            self.recorder.grant_writer(POSITIONS_TABLE, update=True)

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read(self, after: int, limit: int) -> list[RecordedEvent]:
        return [self.mapper.to_recorded(n) for n in self.read_raw(after, limit)]

    def read_raw(self, after: int, limit: int, topics: Sequence[str] = ()) -> Sequence:  # type: ignore[type-arg]
        return self.recorder.select_notifications(
            start=after, limit=limit, topics=topics, inclusive_of_start=False
        )

    def chain(self, after: int, upto: int) -> dict[int, bytes]:
        """The tamper-evident chain's stored links for positions in (after, upto]."""
        return self.recorder.select_chain(after, upto)  # type: ignore[attr-defined,no-any-return]

    def stream(self, originator_id: object) -> list:  # type: ignore[type-arg]
        return list(self.recorder.select_events(originator_id))  # type: ignore[arg-type]

    def ping(self) -> None:
        self.head()

    @contextmanager
    def exclusive(self, job: str) -> Iterator[StillHeld]:
        """Lets one process at a time run `job` against this log (Busy at once otherwise):
        a file lock beside SQLite, a session advisory lock on PostgreSQL. Yields a check that
        raises LockLost once the lock has gone: PostgreSQL drops it with its session, when the
        connection is cut or the backend terminated, and a waiting process may then take it."""
        datastore: Any = getattr(self.recorder, "datastore", None)
        if self.backend == "sqlite":
            with file_lock(f"{datastore.pool.db_name}.{job}.lock", job) as still_held:
                yield still_held
            return
        key = f"velora:{job}"
        with datastore.get_connection() as conn:
            row = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s)) AS held", (key,)
            ).fetchone()
            conn.commit()  # the lock belongs to the session and outlives the transaction
            if not row["held"]:
                raise Busy(f"another {job} is running")

            def still_held() -> None:
                # A session holds its lock until it ends, so a live session still holds it.
                try:
                    conn.execute("SELECT 1")
                    conn.commit()
                except psycopg.Error as e:
                    raise LockLost(f"the {job} lock went with its session: {e}") from e

            try:
                yield still_held
            finally:
                try:
                    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
                    conn.commit()
                except psycopg.Error:
                    conn.close()  # ends the session, and the lock with it if it still held it

    def close(self) -> None:
        close = getattr(self.recorder, "close", None)
        if close is not None:
            close()
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is not None:
            datastore.close()


def open_event_log(url: str | None, data_dir: Path, *, secret: str = "") -> EventLog:
    """PostgreSQL when a URL is given (it connects at once, to learn the stored event type),
    else SQLite under the data dir. `secret` wraps the per-person keys that seal personal data
    in events."""
    datastore: PostgresDatastore | SQLiteDatastore
    recorder: ApplicationRecorder
    snapshots: AggregateRecorder
    backend: Literal["postgres", "sqlite"]
    if url:
        datastore = datastore_from_url(url)
        recorder = GroupCommitRecorder(datastore)
        snapshots = PostgresAggregateRecorder(datastore, events_table_name=SNAPSHOTS_TABLE)
        backend = "postgres"
    else:
        datastore = datastore_for(data_dir / "events.sqlite3")
        recorder = ImmutableSQLiteRecorder(datastore)
        snapshots = SQLiteAggregateRecorder(datastore, events_table_name=SNAPSHOTS_TABLE)
        backend = "sqlite"
    keys = PersonalKeys(datastore, secret)
    return EventLog(
        recorder, EnvelopeMapper(keys), backend, snapshots, keys, RelayPositions(datastore)
    )
