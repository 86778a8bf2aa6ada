"""The event log: one notification log shared by every application, so a position means the
same thing everywhere (the read-your-writes header, projector tracking, the relay)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder

from eventstore.mapper import EnvelopeMapper, RecordedEvent
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

    def migrate(self) -> None:
        """Creates the events table, its indexes and its immutability guards, the snapshots
        table and the personal keys table (idempotent)."""
        self.recorder.create_table()  # type: ignore[attr-defined]
        self.snapshots.create_table()  # type: ignore[attr-defined]
        self.keys.create_table()
        if isinstance(self.recorder, GroupCommitRecorder):
            self.recorder.grant_writer(SNAPSHOTS_TABLE)
            self.recorder.grant_writer(KEYS_TABLE, update=True)

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

    def close(self) -> None:
        close = getattr(self.recorder, "close", None)
        if close is not None:
            close()
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is not None:
            datastore.close()


def open_event_log(url: str | None, data_dir: Path, *, secret: str = "") -> EventLog:
    """PostgreSQL when a URL is given, else SQLite under the data dir. Connects lazily.
    `secret` wraps the per-person keys that seal personal data in events."""
    if url:
        pg = datastore_from_url(url)
        snapshots: AggregateRecorder = PostgresAggregateRecorder(
            pg, events_table_name=SNAPSHOTS_TABLE
        )
        keys = PersonalKeys(pg, secret)
        return EventLog(GroupCommitRecorder(pg), EnvelopeMapper(keys), "postgres", snapshots, keys)
    lite = datastore_for(data_dir / "events.sqlite3")
    snapshots = SQLiteAggregateRecorder(lite, events_table_name=SNAPSHOTS_TABLE)
    keys = PersonalKeys(lite, secret)
    return EventLog(ImmutableSQLiteRecorder(lite), EnvelopeMapper(keys), "sqlite", snapshots, keys)
