"""The event store's contract. Every backend (SQLite, PostgreSQL) runs these same cases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from domain.personal import erased_marker
from eventstore.application import VeloraApplication
from eventstore.chain import GENESIS, link
from eventstore.context import CommandContext
from eventstore.locks import Busy
from eventstore.log import EventLog
from eventstore.verify import Verifier
from services.audit import AuditTrail
from tests.aggregates import Counter, Nickname


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

    def test_one_process_at_a_time_holds_a_job_and_a_crash_would_let_it_go(
        self, log: EventLog
    ) -> None:
        with log.exclusive("relay-contract") as still_held:
            still_held()  # held, and known to be
            with pytest.raises(Busy), log.exclusive("relay-contract"):
                pass  # a second relay of the same name must wait
            with log.exclusive("relay-other"):
                pass  # another job is not held up
        with log.exclusive("relay-contract"):
            pass  # released: the next one takes it

    def test_a_relay_position_only_moves_forward(self, log: EventLog) -> None:
        positions = log.relay_positions
        name = f"contract-{uuid4().hex[:8]}"
        assert positions.get(name) == 0
        positions.set(name, 7)
        positions.set(name, 5)  # a relay that resumed late cannot undo newer progress
        assert positions.get(name) == 7
        positions.set(name, 9)
        assert positions.get(name) == 9


class AggregateCacheContract:
    """Two processes on one store, each with its own aggregate cache. Subclasses provide `log`
    and `open_other` (a second EventLog on the same store, as another process would open it)."""

    def open_other(self) -> EventLog:
        raise NotImplementedError

    @pytest.fixture
    def other(self, log: EventLog) -> Iterator[EventLog]:
        other = self.open_other()
        yield other
        other.close()

    def test_a_load_sees_what_another_process_saved(self, log: EventLog, other: EventLog) -> None:
        here, there = VeloraApplication(log), VeloraApplication(other)
        counter = Counter(tenant_id=uuid4())
        here.record(ctx(), counter)
        assert here.repository.get(counter.id).count == 0  # now cached here
        theirs = there.repository.get(counter.id)
        theirs.increment(by=3)
        there.record(ctx(), theirs)
        assert here.repository.get(counter.id).count == 3

    def test_a_copy_gone_stale_within_a_command_costs_a_conflict_never_a_lost_update(
        self, log: EventLog, other: EventLog
    ) -> None:
        here, there = VeloraApplication(log), VeloraApplication(other)
        counter = Counter(tenant_id=uuid4())
        here.record(ctx(), counter)
        with log.aggregates.command():
            mine = here.repository.get(counter.id)
            theirs = there.repository.get(counter.id)
            theirs.increment(by=3)
            there.record(ctx(), theirs)
            # Within one command the log is looked at once, so this copy predates their save.
            stale = here.repository.get(counter.id)
            assert stale.count == 0
            stale.increment(by=1)
            with pytest.raises(IntegrityError):
                here.record(ctx(), stale)
            # The conflict marked the stale copy behind: the next load catches it up.
            fresh = here.repository.get(counter.id)
        assert (mine.count, fresh.count) == (0, 3)
        fresh.increment(by=1)
        here.record(ctx(), fresh)
        assert there.repository.get(counter.id).count == 4

    def test_loads_are_private_copies_and_repeats_come_from_memory(self, log: EventLog) -> None:
        app = VeloraApplication(log)
        log.aggregates.refresh()  # its first look at the log: what it kept before goes
        counter = Counter(tenant_id=uuid4())
        app.record(ctx(), counter)
        misses = log.aggregates.misses
        with log.aggregates.command():
            first = app.repository.get(counter.id)
            first.increment(by=5)  # changed but never saved
            second = app.repository.get(counter.id)
        assert second.count == 0
        assert log.aggregates.misses == misses  # kept when saved, so never read back

    def test_a_shared_read_is_the_kept_copy_which_no_command_changes_in_place(
        self, log: EventLog, other: EventLog
    ) -> None:
        here, there = VeloraApplication(log), VeloraApplication(other)
        counter = Counter(tenant_id=uuid4())
        here.record(ctx(), counter)
        read = here.read_or_none(counter.id)
        assert read is here.read_or_none(counter.id)  # no copy made
        mine = here.repository.get(counter.id)
        mine.increment(by=2)
        here.record(ctx(), mine)
        theirs = there.repository.get(counter.id)
        theirs.increment(by=5)
        there.record(ctx(), theirs)
        # What a reader holds stays the version it read; the next read is the log's latest.
        assert read.count == 0
        assert here.read_or_none(counter.id).count == 7
        assert here.read_or_none(uuid4()) is None

    def test_an_absence_is_remembered_until_another_process_records_that_id(
        self, log: EventLog, other: EventLog
    ) -> None:
        here, there = VeloraApplication(log), VeloraApplication(other)
        here.read_or_none(uuid4())  # the cache's first look at the log is behind it
        counter = Counter(tenant_id=uuid4())
        assert here.read_or_none(counter.id) is None
        misses = log.aggregates.misses
        assert here.read_or_none(counter.id) is None
        assert log.aggregates.misses == misses  # asked again: not read from the store
        there.record(ctx(), counter)
        found = here.read_or_none(counter.id)
        assert found is not None and found.count == 0

    def test_an_absence_ends_when_this_process_records_that_id(self, log: EventLog) -> None:
        app = VeloraApplication(log)
        counter = Counter(tenant_id=uuid4())
        with log.aggregates.command():  # the log is looked at once, before the save
            assert app.read_or_none(counter.id) is None
            app.record(ctx(), counter)
            found = app.read_or_none(counter.id)
        assert found is not None and found.count == 0

    def test_changes_made_after_a_save_and_never_stored_are_not_cached(self, log: EventLog) -> None:
        app = VeloraApplication(log)
        counter = Counter(tenant_id=uuid4())
        app.record(ctx(), counter)
        counter.increment(by=4)  # the caller goes on with the object it saved, and never saves
        assert app.repository.get(counter.id).count == 0

    def test_what_was_kept_before_the_first_look_at_the_log_is_not_trusted(
        self, log: EventLog, other: EventLog
    ) -> None:
        here, there = VeloraApplication(log), VeloraApplication(other)
        counter = Counter(tenant_id=uuid4())
        here.record(ctx(), counter)  # kept here, before this cache has looked at the log
        theirs = there.repository.get(counter.id)
        theirs.increment(by=2)
        there.record(ctx(), theirs)
        assert here.repository.get(counter.id).count == 2

    def test_a_past_version_still_replays_the_store(self, log: EventLog) -> None:
        app = VeloraApplication(log)
        counter = Counter(tenant_id=uuid4())
        counter.increment(by=2)
        app.record(ctx(), counter)
        assert app.repository.get(counter.id, version=1).count == 0
        assert app.repository.get(counter.id).count == 2


class ChainContract:
    """The tamper-evident chain. Subclasses provide `chained_log` (a migrated EventLog in a store
    of its own, since these tests break its chain on purpose), `superuser_sql` (statements run as
    the database's superuser, behind the application's back) and the names of the guards."""

    position_column = "rowid"
    events_guard: tuple[str, str] = ("", "")  # (statement turning it off, statement back on)

    def superuser_sql(self, statement: str) -> Any:
        raise NotImplementedError

    def record_counters(self, log: EventLog, count: int) -> list[int]:
        app = VeloraApplication(log)
        positions = []
        for i in range(count):
            counter = Counter(tenant_id=uuid4())
            counter.increment(by=i + 1)
            positions.append(app.record(ctx(), counter))
        return positions

    def test_every_event_is_linked_as_it_is_recorded(self, chained_log: EventLog) -> None:
        self.record_counters(chained_log, 5)
        head = chained_log.head()
        links = chained_log.chain(0, head)
        assert sorted(links) == [n.id for n in chained_log.read_raw(0, 100)]
        previous = GENESIS
        for n in chained_log.read_raw(0, 100):
            previous = link(previous, n.id, n.originator_id, n.originator_version, n.topic, n.state)
            assert links[n.id] == previous
        found = Verifier(chained_log).verify()
        assert found.chain_intact and found.first_broken is None
        assert (found.events_checked, found.head_position) == (head, head)
        assert found.head_hash == previous.hex()

    def test_an_event_edited_by_a_superuser_breaks_the_chain_exactly_there(
        self, chained_log: EventLog
    ) -> None:
        positions = self.record_counters(chained_log, 6)
        victim = positions[2]  # the third counter's increment: by=3
        off, on = self.events_guard
        self.superuser_sql(off)
        forged = self.replaced("state", '"by":3', '"by":30')
        where = f"WHERE {self.position_column} = {victim}"
        self.superuser_sql(f"UPDATE velora_events SET state = {forged} {where}")
        self.superuser_sql(on)
        edited = chained_log.read(victim - 1, 1)[0]
        assert edited.event.by == 30  # the edit took, and the application would not notice

        found = Verifier(chained_log).verify()
        assert not found.chain_intact
        assert found.first_broken is not None
        assert found.first_broken.position == victim
        assert found.first_broken.type == "Counter.Incremented"
        assert found.first_broken.aggregate_id == str(edited.originator_id)
        assert found.events_checked == chained_log.head()

    def test_a_deleted_event_is_noticed(self, chained_log: EventLog) -> None:
        positions = self.record_counters(chained_log, 3)
        off, on = self.events_guard
        self.superuser_sql(off)
        self.superuser_sql(
            f"DELETE FROM velora_events WHERE {self.position_column} = {positions[1]}"
        )
        self.superuser_sql(on)
        found = Verifier(chained_log).verify()
        assert found.first_broken is not None and found.first_broken.position == positions[1]
        assert found.first_broken.reason == "a link whose event is gone"

    def test_the_links_are_as_immutable_as_the_events(self, chained_log: EventLog) -> None:
        self.record_counters(chained_log, 1)
        for statement in (
            "UPDATE velora_event_chain SET hash = hash",
            "DELETE FROM velora_event_chain",
        ):
            with pytest.raises(Exception, match="immutable"):
                self.superuser_sql(statement)
        assert Verifier(chained_log).verify().chain_intact

    def replaced(self, column: str, old: str, new: str) -> str:
        raise NotImplementedError


class AsOfContract:
    """As-of state on a long stream, from snapshots. Subclasses provide `chained_log`."""

    def test_as_of_state_starts_from_snapshots_and_agrees_with_a_full_replay(
        self, chained_log: EventLog
    ) -> None:
        app = VeloraApplication(chained_log)
        counter = Counter(tenant_id=uuid4())
        for batch in range(25):
            for i in range(10):
                counter.increment(by=batch * 10 + i + 1)
            app.record(ctx(), counter)
        trail = AuditTrail(chained_log)

        def total(version: int) -> int:
            return sum(range(1, version))  # version 1 started it; version v added v - 1

        assert list(chained_log.snapshots.select_events(counter.id)) == []
        full = {v: trail.state(counter.id, version=v) for v in (1, 99, 100, 101, 200, 251)}
        for v, state in full.items():
            assert (state["version"], state["state"]["count"]) == (v, total(v))
        snapshots = [s.originator_version for s in chained_log.snapshots.select_events(counter.id)]
        assert snapshots == [100, 200]  # left behind by the replays through them

        # From the snapshots now, and the same answers as the full replays gave.
        for v, state in full.items():
            assert trail.state(counter.id, version=v) == state
        assert trail.state(counter.id) == full[251]
        events, _ = trail.history(counter.id, after=149, limit=1)
        at = datetime.fromisoformat(events[0]["timestamp"])
        assert trail.state(counter.id, at=at)["version"] == 150
        first, _ = trail.history(counter.id, limit=1)
        assert (
            trail.state(counter.id, at=datetime.fromisoformat(first[0]["timestamp"]))["version"]
            == 1
        )

    def test_state_holding_personal_data_is_never_snapshotted_and_reads_redacted_once_erased(
        self, chained_log: EventLog
    ) -> None:
        app = VeloraApplication(chained_log)
        person = Nickname(tenant_id=uuid4())
        for i in range(120):
            person.rename(f"Ada #{i}")
        app.record(ctx(), person)
        trail = AuditTrail(chained_log)
        assert trail.state(person.id, version=110)["state"]["nickname"] == "Ada #108"
        assert list(chained_log.snapshots.select_events(person.id)) == []
        stored = b"".join(bytes(s.state) for s in chained_log.stream(person.id))
        assert b"Ada #" not in stored

        chained_log.keys.destroy(person.id)
        assert trail.state(person.id)["state"]["nickname"] == erased_marker(person.id)
        assert Verifier(chained_log).verify().chain_intact
