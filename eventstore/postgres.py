"""PostgreSQL event store: group commit of concurrent saves, and immutability enforced by the
database (a trigger, and a writer role that holds only SELECT and INSERT).

Why group commit: the library serialises every save on a table lock so that notification ids
commit in the order they were issued (readers tailing the log must never see id 7 before id 6
commits). That makes each save pay a whole transaction and fsync alone. Here one committer thread
takes every save that is waiting, writes them all in one transaction under one lock, and hands
each caller its ids or its own error. Ordering is exactly the library's; the cost of a commit is
shared by everyone who arrived while the previous one was running, so throughput grows with the
number of concurrent writers instead of staying flat.

Why an advisory lock rather than LOCK TABLE: LOCK TABLE ... EXCLUSIVE needs UPDATE, DELETE or
TRUNCATE privilege, which is exactly what the application's role must not hold. A transaction-level
advisory lock gives the same serialisation of writers, needs no privilege, and, like the table
lock, does not block readers.
"""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.sql import SQL, Identifier

EVENTS_TABLE = "velora_events"
WRITER_ROLE = "velora_writer"
# One advisory lock key per events table, derived from its name so two stores never share one.
_LOCK_KEY = zlib.crc32(f"velora:{EVENTS_TABLE}".encode())
_MAX_ATTEMPTS = 3


def datastore_from_url(url: str, *, pool_size: int = 8) -> PostgresDatastore:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return PostgresDatastore(
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_timeout=10,
        pre_ping=True,
        lock_timeout=10,
    )


@dataclass
class _PendingSave:
    events: Sequence[StoredEvent]
    done: threading.Event = field(default_factory=threading.Event)
    ids: list[int] | None = None
    error: BaseException | None = None

    def resolve(self, ids: list[int] | None = None, error: BaseException | None = None) -> None:
        self.ids, self.error = ids, error
        self.done.set()


_STOP = object()


class GroupCommitRecorder(PostgresApplicationRecorder):
    """An application recorder whose saves are committed in groups by one committer thread."""

    def __init__(self, datastore: PostgresDatastore, *, max_batch_events: int = 2000) -> None:
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        self.max_batch_events = max_batch_events
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("SELECT pg_advisory_xact_lock({0})").format(_LOCK_KEY),
        ]
        self._insert_returning = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state "
            "FROM unnest(%s::{schema}.{type}[]) "
            "RETURNING originator_id, originator_version, notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            type=Identifier(self.stored_event_type_name),
        )

    # -- the write path -------------------------------------------------------------------------

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if kwargs.get("tracking") is not None:
            raise ProgrammingError("tracking records are written by the read-model stores")
        if not stored_events:
            return []
        pending = _PendingSave(stored_events)
        self._ensure_committer()
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.ids is not None
        return pending.ids

    def _ensure_committer(self) -> None:
        if self._thread is not None:
            return
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._commit_loop, name="velora-group-commit", daemon=True
                )
                self._thread.start()

    def _commit_loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, size, stop = [first], len(first.events), False
            while size < self.max_batch_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
                size += len(nxt.events)
            self._commit_with_retry(batch)
            if stop:
                return

    def _commit_with_retry(self, batch: list[_PendingSave]) -> None:
        # A retry after a lost connection is safe: if the first attempt did commit, the retry
        # collides on (originator_id, originator_version) and nothing is written twice.
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                self._commit(batch)
                return
            except (OperationalError, psycopg.OperationalError) as e:
                if attempt == _MAX_ATTEMPTS:
                    error: BaseException = OperationalError(str(e))
                    break
            except BaseException as e:
                error = e
                break
        for pending in batch:
            if not pending.done.is_set():
                pending.resolve(error=error)

    def _commit(self, batch: list[_PendingSave]) -> None:
        results: list[tuple[_PendingSave, list[int] | None, BaseException | None]] = []
        with self.datastore.get_connection() as conn, conn.transaction():
            curs = conn.cursor()
            self._lock_table(curs)
            self._notify_channel(curs)
            try:
                with conn.transaction():  # a savepoint: the happy path is one INSERT for all
                    ids = self._insert_batch(curs, [e for p in batch for e in p.events])
                results = [(p, [ids[_key(e)] for e in p.events], None) for p in batch]
            except psycopg.IntegrityError:
                # Someone in the group conflicts: give each save its own savepoint so only the
                # conflicting ones fail, each with its own error, and the rest still commit.
                for pending in batch:
                    try:
                        with conn.transaction():
                            ids = self._insert_batch(curs, pending.events)
                        results.append((pending, [ids[_key(e)] for e in pending.events], None))
                    except psycopg.IntegrityError as e:
                        results.append((pending, None, IntegrityError(str(e))))
        for pending, ids_, error in results:
            pending.resolve(ids_, error)

    def _insert_batch(
        self, curs: psycopg.Cursor[Any], events: Sequence[StoredEvent]
    ) -> dict[tuple[str, int], int]:
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in events
        ]
        curs.execute(self._insert_returning, (rows,))
        return {
            (str(r["originator_id"]), r["originator_version"]): r["notification_id"]
            for r in curs.fetchall()
        }

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    # -- schema ---------------------------------------------------------------------------------

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            for statement in immutability_statements(self.datastore.schema, EVENTS_TABLE):
                curs.execute(statement)


def _key(e: StoredEvent) -> tuple[str, int]:
    return (str(e.originator_id), e.originator_version)


def immutability_statements(schema: str, table: str) -> list[SQL | Any]:
    """Stored events can be inserted and read, never changed: a trigger refuses UPDATE, DELETE
    and TRUNCATE for everyone (owners and superusers included), and the writer role that the
    application connects through holds only SELECT and INSERT."""
    fq = SQL("{0}.{1}").format(Identifier(schema), Identifier(table))
    seq = Identifier(schema, f"{table}_notification_id_seq")
    return [
        SQL(
            "CREATE OR REPLACE FUNCTION {schema}.velora_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'velora: stored events are immutable (% on %)', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'integrity_constraint_violation'; "
            "END $$"
        ).format(schema=Identifier(schema)),
        SQL(
            "CREATE OR REPLACE TRIGGER velora_immutable_rows BEFORE UPDATE OR DELETE ON {fq} "
            "FOR EACH ROW EXECUTE FUNCTION {schema}.velora_refuse_change()"
        ).format(fq=fq, schema=Identifier(schema)),
        SQL(
            "CREATE OR REPLACE TRIGGER velora_immutable_table BEFORE TRUNCATE ON {fq} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.velora_refuse_change()"
        ).format(fq=fq, schema=Identifier(schema)),
        SQL(
            "DO $$ BEGIN "
            "IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role_lit}) THEN "
            "CREATE ROLE {role} NOLOGIN; END IF; END $$"
        ).format(role_lit=psycopg.sql.Literal(WRITER_ROLE), role=Identifier(WRITER_ROLE)),
        SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {fq} FROM PUBLIC").format(fq=fq),
        SQL("REVOKE ALL ON {fq} FROM {role}").format(fq=fq, role=Identifier(WRITER_ROLE)),
        SQL("GRANT SELECT, INSERT ON {fq} TO {role}").format(fq=fq, role=Identifier(WRITER_ROLE)),
        SQL("GRANT USAGE ON SCHEMA {schema} TO {role}").format(
            schema=Identifier(schema), role=Identifier(WRITER_ROLE)
        ),
        SQL("GRANT USAGE, SELECT ON SEQUENCE {seq} TO {role}").format(
            seq=seq, role=Identifier(WRITER_ROLE)
        ),
    ]
