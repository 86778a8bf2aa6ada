"""The event store contract on PostgreSQL, plus what only PostgreSQL has: TRUNCATE, the writer
role's privileges, and group commit isolating a conflicting save from the rest of its group."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError

from adapters.cloudevents import CloudEvents
from eventstore.application import VeloraApplication
from eventstore.locks import LockLost
from eventstore.log import EventLog, open_event_log
from eventstore.postgres import _LOCK_KEY, WRITER_ROLE, GroupCommitRecorder
from eventstore.relay import Relay
from eventstore.verify import Verifier
from services.audit import SNAPSHOT_EVERY, AuditTrail
from tests.aggregates import Counter
from tests.brokers import InMemoryPublisher
from tests.contract.eventstore_contract import (
    AggregateCacheContract,
    AsOfContract,
    ChainContract,
    EventStoreContract,
    ctx,
)


@pytest.fixture(scope="module")
def pg_events_url(new_pg_database: Callable[[], str]) -> str:
    url = new_pg_database()
    log = open_event_log(url, None)  # type: ignore[arg-type]
    log.migrate()
    log.close()
    return url


class TestPostgresEventStore(EventStoreContract, AggregateCacheContract):
    position_column = "notification_id"

    @pytest.fixture
    def log(self, pg_events_url: str) -> Iterator[EventLog]:
        self.url = pg_events_url
        log = open_event_log(pg_events_url, None)  # type: ignore[arg-type]
        yield log
        log.close()

    def open_other(self) -> EventLog:
        return open_event_log(self.url, None)  # type: ignore[arg-type]

    def raw_sql(self, log: EventLog, statement: str) -> Any:
        # As the database owner (a superuser here): only the trigger stands in the way.
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(statement)

    def test_truncate_is_refused(self, log: EventLog, app: VeloraApplication) -> None:
        app.record(ctx(), Counter(tenant_id=uuid4()))
        head = log.head()
        with pytest.raises(psycopg.Error, match="immutable"):
            self.raw_sql(log, "TRUNCATE velora_events")
        assert log.head() == head

    def session_locks(self) -> list[int]:
        """The sessions holding a session-level advisory lock in this database."""
        query = (
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            return [row[0] for row in conn.execute(query)]

    def cut(self, pid: int) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def test_a_job_lock_whose_session_was_cut_is_known_lost_and_free(self, log: EventLog) -> None:
        with log.exclusive("cut-job") as still_held:
            still_held()
            (holder,) = self.session_locks()
            self.cut(holder)
            with pytest.raises(LockLost):
                still_held()
            with log.exclusive("cut-job"):
                pass  # a process waiting for the job may take it now
        assert self.session_locks() == []

    def test_a_relay_whose_lock_was_cut_takes_it_again_and_goes_on(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        relay = Relay(
            log,
            InMemoryPublisher(),
            envelope=CloudEvents(),
            name=f"cut-{uuid4().hex[:8]}",
            poll_interval_s=0.05,
        )
        stop = threading.Event()
        worker = threading.Thread(target=relay.run, args=(stop,))
        worker.start()
        try:
            app.record(ctx(), Counter(tenant_id=uuid4()))
            assert eventually(lambda: relay.position() == log.head())
            (first,) = self.session_locks()
            self.cut(first)
            app.record(ctx(), Counter(tenant_id=uuid4()))
            assert eventually(lambda: relay.position() == log.head())
            # It noticed, and holds the lock again, on a new session.
            assert eventually(
                lambda: len(locks := self.session_locks()) == 1 and first not in locks
            )
        finally:
            stop.set()
            worker.join(timeout=10)
        assert not worker.is_alive()


def eventually(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture(scope="module")
def app_role_url(pg_events_url: str) -> Iterator[str]:
    """A login role that is only a member of the writer role, as the application should be."""
    role = f"velora_app_{uuid4().hex[:8]}"
    with psycopg.connect(pg_events_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN IN ROLE {WRITER_ROLE}')
    yield as_role(pg_events_url, role)
    with psycopg.connect(pg_events_url, autocommit=True) as conn:
        conn.execute(f'DROP OWNED BY "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_the_application_role_can_append_and_read_but_not_change(app_role_url: str) -> None:
    log = open_event_log(app_role_url, None)  # type: ignore[arg-type]
    try:
        app = VeloraApplication(log)
        counter = Counter(tenant_id=uuid4())
        counter.increment(by=2)
        position = app.record(ctx(), counter)
        assert app.repository.get(counter.id).count == 2
    finally:
        log.close()
    with psycopg.connect(app_role_url, autocommit=True) as conn:
        for statement in (
            f"UPDATE velora_events SET topic = 'x' WHERE notification_id = {position}",
            f"DELETE FROM velora_events WHERE notification_id = {position}",
            "TRUNCATE velora_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_the_application_role_chains_events_and_keeps_snapshots(app_role_url: str) -> None:
    log = open_event_log(app_role_url, None)  # type: ignore[arg-type]
    try:
        app = VeloraApplication(log)
        counter = Counter(tenant_id=uuid4())
        for _ in range(SNAPSHOT_EVERY):
            counter.increment(by=1)
        app.record(ctx(), counter)
        state = AuditTrail(log).state(counter.id)
        assert state["state"]["count"] == SNAPSHOT_EVERY
        kept = [s.originator_version for s in log.snapshots.select_events(counter.id)]
        assert kept == [SNAPSHOT_EVERY]
        assert Verifier(log).verify().chain_intact
    finally:
        log.close()


def test_a_conflict_in_a_group_fails_only_its_own_save(pg_events_url: str) -> None:
    """Holds the writers' lock so that saves pile up into one group, one of which conflicts."""
    log = open_event_log(pg_events_url, None)  # type: ignore[arg-type]
    recorder = log.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    app = VeloraApplication(log)
    try:
        existing = Counter(tenant_id=uuid4())
        app.record(ctx(), existing)
        stale = app.repository.get(existing.id)
        fresh = app.repository.get(existing.id)
        fresh.increment(by=1)
        app.record(ctx(), fresh)
        stale.increment(by=99)  # version 2 again: must conflict

        outcomes: dict[str, object] = {}
        with psycopg.connect(pg_events_url, autocommit=True) as blocker:
            blocker.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            blocked_first = threading.Thread(
                target=lambda: outcomes.setdefault(
                    "first", app.record(ctx(), Counter(tenant_id=uuid4()))
                )
            )
            blocked_first.start()
            # Wait until the committer is inside the database, blocked on the writers' lock.
            _wait_until(lambda: _blocked_on_advisory_lock(blocker) == 1)

            def save(name: str, *aggregates: object) -> None:
                try:
                    outcomes[name] = app.record(ctx(), *aggregates)
                except IntegrityError as e:
                    outcomes[name] = e

            group = [
                threading.Thread(target=save, args=(f"ok{i}", Counter(tenant_id=uuid4())))
                for i in range(6)
            ] + [threading.Thread(target=save, args=("stale", stale))]
            for t in group:
                t.start()
            _wait_until(lambda: recorder._queue.qsize() == len(group))
            blocker.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
            for t in [blocked_first, *group]:
                t.join(timeout=30)

        assert isinstance(outcomes.pop("stale"), IntegrityError)
        positions = sorted(outcomes.values())
        assert all(isinstance(p, int) for p in positions) and len(positions) == 7
        assert app.repository.get(existing.id).count == 1
    finally:
        log.close()


def _blocked_on_advisory_lock(conn: psycopg.Connection) -> int:  # type: ignore[type-arg]
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    ).fetchone()
    return int(row[0]) if row else 0


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


class TestPostgresChain(ChainContract, AsOfContract):
    position_column = "notification_id"
    # The database superuser turns the guard off, edits, and turns it back on: exactly what the
    # chain is there to expose.
    events_guard = (
        "ALTER TABLE velora_events DISABLE TRIGGER velora_immutable_rows",
        "ALTER TABLE velora_events ENABLE TRIGGER velora_immutable_rows",
    )

    @pytest.fixture
    def chained_log(self, new_pg_database: Callable[[], str]) -> Iterator[EventLog]:
        self.url = new_pg_database()
        log = open_event_log(self.url, None)  # type: ignore[arg-type]
        log.migrate()
        yield log
        log.close()

    def superuser_sql(self, statement: str) -> Any:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(statement)

    def replaced(self, column: str, old: str, new: str) -> str:
        return f"convert_to(replace(convert_from({column}, 'UTF8'), '{old}', '{new}'), 'UTF8')"

    def test_the_writer_role_cannot_touch_the_links_either(self, chained_log: EventLog) -> None:
        self.record_counters(chained_log, 1)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET ROLE velora_writer")
            for statement in (
                "UPDATE velora_event_chain SET hash = hash",
                "DELETE FROM velora_event_chain",
                "TRUNCATE velora_event_chain",
            ):
                with pytest.raises(psycopg.Error):
                    conn.execute(statement)
