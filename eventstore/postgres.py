"""PostgreSQL event store: group commit of concurrent saves, and immutability enforced by the
database (a trigger, and a writer role that holds only SELECT and INSERT).

Why group commit: the library serialises every save on a table lock so that notification ids
commit in the order they were issued (readers tailing the log must never see id 7 before id 6
commits). That makes each save pay a whole transaction and fsync alone. Here one committer thread
takes every save that is waiting, writes them all in one transaction under one lock, and hands
each caller its ids or its own error. Ordering is exactly the library's; the cost of a commit is
shared by everyone who arrived while the previous one was running, so throughput grows with the
number of concurrent writers instead of staying flat.

Why one database function: each group is one statement, `SELECT * FROM velora_append(events)`,
sent over the committer's own connection and committed implicitly. The function takes the lock
and inserts, so a group costs one round trip and one commit. (The library's
own db-function mode drops the lock, which would let ids commit out of order; this one keeps it.)

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
CHAIN_TABLE = "velora_event_chain"
WRITER_ROLE = "velora_writer"
# One advisory lock key per events table, derived from its name so two stores never share one.
_LOCK_KEY = zlib.crc32(f"velora:{EVENTS_TABLE}".encode())
_MAX_ATTEMPTS = 3


# The URL schemes VELORA_EVENTSTORE_URL may have.
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def datastore_from_url(url: str, *, pool_size: int = 8) -> PostgresDatastore:
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return PostgresDatastore(
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_timeout=5,
        # No round trip to test each connection as it leaves the pool: a connection that died
        # meanwhile fails its first statement, the pool discards it, and the store's reads and
        # the committer retry on another (eventsourcing's @retry; _append_with_retry).
        pre_ping=False,
        lock_timeout=10,
    )


class _PendingSave:
    """One caller's save, waiting for the committer. A bare lock, held from creation and released
    by the committer, is the cheapest way to park and wake a thread."""

    __slots__ = ("_done", "error", "events", "ids")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.ids: list[int] | None = None
        self.error: BaseException | None = None
        self._done = threading.Lock()
        self._done.acquire()

    def resolve(self, ids: list[int] | None = None, error: BaseException | None = None) -> None:
        self.ids, self.error = ids, error
        self._done.release()

    def wait(self) -> None:
        self._done.acquire()


_STOP = object()


class GroupCommitRecorder(PostgresApplicationRecorder):
    """An application recorder whose saves are committed in groups by one committer thread."""

    def __init__(self, datastore: PostgresDatastore, *, max_batch_events: int = 2000) -> None:
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        self.max_batch_events = max_batch_events
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._append = SQL(
            "SELECT * FROM {schema}.velora_append("
            "%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(schema=Identifier(self.datastore.schema))
        self._changes = SQL(
            "SELECT notification_id, originator_id, originator_version FROM {schema}.{table} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(EVENTS_TABLE))

    # -- the write path -------------------------------------------------------------------------

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        if kwargs.get("tracking") is not None:
            raise ProgrammingError("tracking records are written by the read-model stores")
        if not stored_events:
            return []
        pending = _PendingSave(stored_events)
        self._ensure_committer()
        self._queue.put(pending)
        pending.wait()
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
        try:
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
                self._commit_group(batch)
                if stop:
                    return
        finally:
            self._drop_connection()

    def _commit_group(self, batch: list[_PendingSave]) -> None:
        try:
            ids = self._append_with_retry([e for p in batch for e in p.events])
        except psycopg.IntegrityError:
            if len(batch) == 1:
                batch[0].resolve(error=IntegrityError("a stored event already has this version"))
                return
            # Someone in the group conflicts: commit each save alone, so only the conflicting
            # ones fail, each with its own error, and the rest still commit.
            for pending in batch:
                self._commit_group([pending])
            return
        except BaseException as e:
            for pending in batch:
                pending.resolve(error=e if isinstance(e, Exception) else OperationalError(str(e)))
            return
        for pending in batch:
            pending.resolve([ids[_key(e)] for e in pending.events])

    def _append_with_retry(self, events: list[StoredEvent]) -> dict[tuple[str, int], int]:
        # A retry after a lost connection is safe: if the first attempt did commit, the retry
        # collides on (originator_id, originator_version) and nothing is written twice.
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return self._append_once(events)
            except (psycopg.OperationalError, psycopg.InterfaceError) as e:
                self._drop_connection()
                if attempt == _MAX_ATTEMPTS:
                    raise OperationalError(str(e)) from e
        raise AssertionError("unreachable")

    def _append_once(self, events: list[StoredEvent]) -> dict[tuple[str, int], int]:
        conn = self._connection()
        # Four arrays of plain values adapt far faster than one array of composite records.
        columns = (
            [e.originator_id for e in events],
            [e.originator_version for e in events],
            [e.topic for e in events],
            [e.state for e in events],
        )
        with conn.cursor() as curs:
            curs.execute(self._append, columns, prepare=True)
            return {(str(r["o_id"]), r["o_version"]): r["n_id"] for r in curs.fetchall()}

    def _connection(self) -> psycopg.Connection[Any]:
        """The committer's own connection, kept for its lifetime: no pool checkout per group."""
        if self._conn is None or self._conn.closed:
            self.datastore.pool.open(wait=True)
            self._conn = self.datastore.pool.getconn()
            self._conn.execute("SET lock_timeout = '10s'")
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self.datastore.pool.putconn(conn)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout=10)
            self._thread = None

    # -- schema ---------------------------------------------------------------------------------

    def create_table(self) -> None:
        super().create_table()
        schema = self.datastore.schema
        with self.datastore.transaction(commit=True) as curs:
            for statement in chain_statements(schema):
                curs.execute(statement)
            curs.execute(append_function(schema))
            for statement in immutability_statements(schema, EVENTS_TABLE):
                curs.execute(statement)
            for statement in immutability_statements(schema, CHAIN_TABLE, sequence=False):
                curs.execute(statement)
            # Link whatever was recorded before the chain existed, under the writers' lock.
            curs.execute(
                SQL("SELECT pg_advisory_xact_lock({key})").format(
                    key=psycopg.sql.Literal(_LOCK_KEY)
                )
            )
            curs.execute(SQL("SELECT {schema}.velora_chain()").format(schema=Identifier(schema)))
        self.datastore.register_type_adapters()

    def grant_writer(self, table: str, *, update: bool = False) -> None:
        """Lets the writer role read and add rows of a table beside the log (snapshots), and
        change them if `update` (the personal keys, which erasure destroys)."""
        privileges = SQL("SELECT, INSERT, UPDATE" if update else "SELECT, INSERT")
        statement = SQL("GRANT {privileges} ON {schema}.{table} TO {role}").format(
            privileges=privileges,
            schema=Identifier(self.datastore.schema),
            table=Identifier(table),
            role=Identifier(WRITER_ROLE),
        )
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(statement)

    def select_changes(self, after: int, limit: int) -> list[tuple[int, Any, int]]:
        """(position, aggregate id, version) of the events after `after`, oldest first: what
        the aggregate cache follows, without the events' state."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._changes, (after, limit), prepare=True)
            return [
                (r["notification_id"], r["originator_id"], r["originator_version"])
                for r in curs.fetchall()
            ]

    def select_chain(self, after: int, upto: int) -> dict[int, bytes]:
        """The stored links of positions in (after, upto]."""
        statement = SQL(
            "SELECT notification_id, hash FROM {schema}.{chain} "
            "WHERE notification_id > %s AND notification_id <= %s"
        ).format(schema=Identifier(self.datastore.schema), chain=Identifier(CHAIN_TABLE))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (after, upto))
            return {r["notification_id"]: bytes(r["hash"]) for r in curs.fetchall()}


def _key(e: StoredEvent) -> tuple[str, int]:
    return (str(e.originator_id), e.originator_version)


def append_function(schema: str) -> Any:
    """The one statement a group commit sends: lock, insert, return the ids. No NOTIFY: it takes
    a cluster-wide lock at every commit, and Velora's runners poll (and are woken in-process)."""
    return SQL(
        "CREATE OR REPLACE FUNCTION {schema}.velora_append("
        "ids uuid[], versions bigint[], topics text[], states bytea[]) "
        "RETURNS TABLE (o_id uuid, o_version bigint, n_id bigint) "
        "LANGUAGE plpgsql AS $$ BEGIN "
        # Writers take this lock before their ids are drawn and hold it until they commit,
        # so ids commit in the order they were drawn and tailing readers skip nothing.
        "PERFORM pg_advisory_xact_lock({key}); "
        "RETURN QUERY INSERT INTO {schema}.{table} AS t "
        "(originator_id, originator_version, topic, state) "
        "SELECT * FROM unnest(ids, versions, topics, states) "
        "RETURNING t.originator_id, t.originator_version, t.notification_id; "
        # Still under the lock: link the new events into the chain in this same transaction.
        "PERFORM {schema}.velora_chain(); "
        "END $$"
    ).format(
        schema=Identifier(schema),
        key=psycopg.sql.Literal(_LOCK_KEY),
        table=Identifier(EVENTS_TABLE),
    )


def chain_statements(schema: str) -> list[Any]:
    """The chain's table, and the function that links every event not yet linked, in position
    order, exactly as eventstore/chain.py computes a link."""
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {schema}.{chain} ("
            "notification_id bigint PRIMARY KEY, hash bytea NOT NULL)"
        ).format(schema=Identifier(schema), chain=Identifier(CHAIN_TABLE)),
        SQL(
            # A custom plan every time: PL/pgSQL caches a generic plan after five calls, and the
            # generic plan of `notification_id > last` scans the whole events table, so every
            # commit cost more the longer the log grew.
            "CREATE OR REPLACE FUNCTION {schema}.velora_chain() RETURNS void "
            "LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan "
            "AS $$ DECLARE prev bytea; last bigint; r record; BEGIN "
            "SELECT c.notification_id, c.hash INTO last, prev FROM {schema}.{chain} c "
            "ORDER BY c.notification_id DESC LIMIT 1; "
            "IF last IS NULL THEN last := 0; prev := ''::bytea; END IF; "
            "FOR r IN SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, "
            "e.state FROM {schema}.{events} e WHERE e.notification_id > last "
            "ORDER BY e.notification_id LOOP "
            "prev := sha256(prev || convert_to(r.notification_id::text || '|' || "
            "r.originator_id::text || '|' || r.originator_version::text || '|' || r.topic || '|', "
            "'UTF8') || r.state); "
            "INSERT INTO {schema}.{chain} (notification_id, hash) "
            "VALUES (r.notification_id, prev); "
            "END LOOP; END $$"
        ).format(
            schema=Identifier(schema),
            chain=Identifier(CHAIN_TABLE),
            events=Identifier(EVENTS_TABLE),
        ),
    ]


def immutability_statements(schema: str, table: str, *, sequence: bool = True) -> list[SQL | Any]:
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
        SQL("GRANT EXECUTE ON FUNCTION {schema}.velora_append TO {role}").format(
            schema=Identifier(schema), role=Identifier(WRITER_ROLE)
        ),
        SQL("GRANT EXECUTE ON FUNCTION {schema}.velora_chain TO {role}").format(
            schema=Identifier(schema), role=Identifier(WRITER_ROLE)
        ),
        *(
            [
                SQL("GRANT USAGE, SELECT ON SEQUENCE {seq} TO {role}").format(
                    seq=seq, role=Identifier(WRITER_ROLE)
                )
            ]
            if sequence
            else []
        ),
    ]
