"""The event store's contract. Every backend (SQLite, PostgreSQL) runs these same cases."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from eventstore.application import VeloraApplication
from eventstore.context import CommandContext
from eventstore.log import EventLog
from tests.aggregates import Counter


def ctx(actor: str = "user-1") -> CommandContext:
    return CommandContext(actor_id=actor, correlation_id=f"corr-{uuid4()}", causation_id="req-1")


class EventStoreContract:
    """Subclasses provide the `log` fixture (a migrated EventLog) and `raw_sql`."""

    def raw_sql(self, log: EventLog, statement: str) -> Any:
        raise NotImplementedError

    @pytest.fixture
    def app(self, log: EventLog) -> VeloraApplication:
        return VeloraApplication(log)

    def test_events_carry_tenant_and_command_metadata(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        before = log.head()
        tenant = uuid4()
        counter = Counter(tenant_id=tenant)
        counter.increment(by=5)
        command = ctx("alice")
        position = app.record(command, counter)

        recorded = log.read(before, 10)
        assert [r.type_name for r in recorded] == ["Counter.Started", "Counter.Incremented"]
        assert recorded[-1].position == position
        for r in recorded:
            assert r.event.tenant_id == tenant
            assert r.originator_id == counter.id
            assert r.meta == {
                "actor_id": "alice",
                "correlation_id": command.correlation_id,
                "causation_id": "req-1",
            }
        assert recorded[1].event.by == 5
        assert recorded[0].position < recorded[1].position
        assert recorded[0].event_id != recorded[1].event_id
        assert log.read(before, 10)[0].event_id == recorded[0].event_id  # stable across reads

    def test_saving_outside_a_command_context_stores_nothing(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        head = log.head()
        with pytest.raises(RuntimeError, match="CommandContext"):
            app.save(Counter(tenant_id=uuid4()))
        assert log.head() == head

    def test_a_stale_write_is_rejected_and_the_whole_save_writes_nothing(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        counter = Counter(tenant_id=uuid4())
        app.record(ctx(), counter)
        first, second = app.repository.get(counter.id), app.repository.get(counter.id)
        first.increment(by=1)
        app.record(ctx(), first)
        head = log.head()

        bystander = Counter(tenant_id=uuid4())
        second.increment(by=100)
        with pytest.raises(IntegrityError):
            app.record(ctx(), bystander, second)

        assert log.head() == head
        assert app.get_or_none(bystander.id) is None
        assert app.repository.get(counter.id).count == 1

    def test_reading_after_a_position_pages_through_the_log_in_order(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        start = log.head()
        positions = [app.record(ctx(), Counter(tenant_id=uuid4())) for _ in range(7)]
        seen: list[int] = []
        cursor = start
        while page := log.read(cursor, 3):
            seen += [r.position for r in page]
            cursor = page[-1].position
        assert seen == positions
        assert log.head() == positions[-1]

    def test_stored_events_cannot_be_updated_or_deleted(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        counter = Counter(tenant_id=uuid4())
        position = app.record(ctx(), counter)
        original = log.read(position - 1, 1)[0]

        for statement in (
            f"UPDATE velora_events SET topic = 'forged' WHERE {self.position_column} = {position}",
            f"DELETE FROM velora_events WHERE {self.position_column} = {position}",
            "DELETE FROM velora_events",
        ):
            with pytest.raises(Exception, match="immutable"):
                self.raw_sql(log, statement)

        after = log.read(position - 1, 1)[0]
        assert (after.topic, after.meta, after.originator_id) == (
            original.topic,
            original.meta,
            original.originator_id,
        )

    position_column = "rowid"

    def test_concurrent_writers_never_let_a_tail_reader_skip_an_event(
        self, log: EventLog, app: VeloraApplication
    ) -> None:
        """Eight writers commit while a reader tails the log. If any event became visible after
        a later position had already been read, the reader would skip it for ever: the reader
        must end up with every committed position, each once, in increasing order."""
        writers, saves_each = 8, 25
        start = log.head()
        committed: list[int] = []
        committed_lock = threading.Lock()
        done = threading.Event()
        seen: list[int] = []
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for _ in range(saves_each):
                    counter = Counter(tenant_id=uuid4())
                    counter.increment(by=1)
                    position = app.record(ctx(), counter)
                    with committed_lock:
                        committed.extend([position - 1, position])
            except BaseException as e:
                errors.append(e)

        def tail() -> None:
            cursor = start
            while True:
                finished = done.is_set()
                page = log.read_raw(cursor, 50)
                for n in page:
                    assert n.id > cursor, f"position {n.id} appeared after {cursor}"
                    seen.append(n.id)
                    cursor = n.id
                if finished and not page:
                    return

        reader = threading.Thread(target=tail)
        reader.start()
        threads = [threading.Thread(target=write) for _ in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        reader.join(timeout=60)

        assert not errors
        assert len(committed) == writers * saves_each * 2
        assert seen == sorted(seen)
        assert seen == sorted(committed)
