"""The read-model store's contract: schema by migration, exactly-once projection with tracking in
the same transaction, quarantining a bad event's tenant (or stopping on an event of no tenant),
a supervised projection thread, tenant scoping, pagination and idempotency keys.
Every backend (SQLite, MariaDB) runs these same cases."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import singledispatchmethod
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from api.idempotency import IdempotencyStore
from eventstore.application import VeloraApplication
from eventstore.log import EventLog, open_event_log
from eventstore.mapper import RecordedEvent
from eventstore.sqlite import EVENTS_TABLE
from projections.group import ProjectionGroup
from projections.identity.tables import tenants
from projections.projector import EffectUnavailable, Projector
from projections.runner import ProjectionFailed, ProjectionRunner, ReplayFailed
from projections.schema import idempotency_keys
from projections.scope import TenantScope
from projections.store import InvalidCursor, ReadStore, TrackingConflict
from projections.tables import metadata
from tests.aggregates import Beacon, Counter
from tests.contract.eventstore_contract import ctx

# A scratch read model for the runner's own tests, created beside the migrated schema.
counter_rows = sa.Table(
    "test_counter_rows",
    sa.MetaData(),
    sa.Column("counter_id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
)


class CounterProjector(Projector):
    """Sums increments per counter. `poison` names an increment it cannot apply."""

    def __init__(
        self,
        name: str,
        poison: int | None = None,
        upstream: tuple[str, ...] = (),
        effect: Callable[[], None] | None = None,
        beacon: str | None = None,
        wide: bool = False,
    ) -> None:
        self.name = name
        self.poison = poison
        self.upstream = upstream
        self.effect = effect
        self.beacon = beacon
        self.wide = wide  # totals written as given, not added in SQL

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        pass

    @apply.register
    def _started(self, e: Counter.Started, conn: Connection, r: RecordedEvent) -> None:  # type: ignore[name-defined]
        conn.execute(
            counter_rows.insert().values(
                counter_id=str(e.originator_id), tenant_id=str(e.tenant_id), total=0
            )
        )

    @apply.register
    def _incremented(self, e: Counter.Incremented, conn: Connection, r: RecordedEvent) -> None:  # type: ignore[name-defined]
        total = e.by if self.wide else counter_rows.c.total + e.by
        conn.execute(
            counter_rows.update()
            .where(counter_rows.c.counter_id == str(e.originator_id))
            .values(total=total)
        )
        if e.by == self.poison:
            raise ValueError(f"cannot apply an increment of {e.by}")

    @apply.register
    def _lit(self, e: Beacon.Lit, conn: Connection, r: RecordedEvent) -> None:  # type: ignore[name-defined]
        if e.colour == self.beacon:
            raise ValueError(f"cannot apply a {e.colour} beacon")

    def end_batch(self, conn: Connection) -> None:
        if self.effect is not None:
            self.effect()


class Follower(Projector):
    """Reads what another projector wrote: notes each counter it sees start, and nothing else."""

    def __init__(self, name: str, upstream: tuple[str, ...]) -> None:
        self.name = name
        self.upstream = upstream
        self.seen: list[int] = []

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        pass

    @apply.register
    def _started(self, e: Counter.Started, conn: Connection, r: RecordedEvent) -> None:  # type: ignore[name-defined]
        self.seen.append(r.position)


def insert_tenants(store: ReadStore, tenant_ids: list[str], first_position: int) -> None:
    """Writes tenant rows directly, to exercise the store's reads apart from any projector."""
    with store.begin() as conn:
        for i, tenant in enumerate(tenant_ids):
            conn.execute(
                tenants.insert().values(
                    tenant_id=tenant,
                    name=f"T{i}",
                    currency="USD",
                    commission_bps=0,
                    escrow_hold_days=0,
                    product_moderation="auto",
                    hold_timeout_s=60,
                    created_at=sa.func.now(),
                    created_position=first_position + i,
                )
            )


def unique_position() -> int:
    # Tests share one database per module; positions must not collide across them.
    return 10_000_000 + int(uuid4().int % 10**12)


class ReadStoreContract:
    """Subclasses provide `store` (a migrated ReadStore). The events come from a SQLite log: what
    is under test here is the read-model side."""

    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[EventLog]:
        log = open_event_log(None, tmp_path)
        log.migrate()
        yield log
        log.close()

    @pytest.fixture(autouse=True)
    def _scratch_table(self, store: ReadStore) -> None:
        counter_rows.create(store.engine, checkfirst=True)

    @pytest.fixture
    def app(self, log: EventLog) -> VeloraApplication:
        return VeloraApplication(log)

    def total(self, store: ReadStore, counter_id: UUID) -> int | None:
        with store.read() as conn:
            return conn.execute(
                sa.select(counter_rows.c.total).where(counter_rows.c.counter_id == str(counter_id))
            ).scalar()

    def test_migrations_create_exactly_the_declared_schema(self, store: ReadStore) -> None:
        def declared_or_migrated(name: str | None, kind: str, _: Any) -> bool:
            return not (kind == "table" and name == counter_rows.name)

        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": declared_or_migrated, "compare_type": True}
            )
            diff = compare_metadata(context, metadata)
        assert diff == []

    def test_projects_each_event_once_and_tracks_the_position(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counter = Counter(tenant_id=uuid4())
        counter.increment(by=3)
        counter.increment(by=4)
        app.record(ctx(), counter)
        runner = ProjectionRunner(
            log, store, CounterProjector(f"p-{uuid4().hex[:8]}"), batch_size=2
        )

        runner.catch_up()
        runner.catch_up()  # nothing new: nothing applied twice

        assert self.total(store, counter.id) == 7
        assert store.position(runner.name) == log.head()

    def test_a_bad_event_quarantines_its_tenant_and_every_other_tenant_moves_on(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        held, other = uuid4(), uuid4()
        counter, bystander = Counter(tenant_id=held), Counter(tenant_id=other)
        counter.increment(by=1)
        bystander.increment(by=2)
        good = app.record(ctx(), counter, bystander)
        counter.increment(by=13)  # the poison
        bad = app.record(ctx(), counter)
        counter.increment(by=5)
        later = Counter(tenant_id=held)  # the quarantined tenant's next aggregate
        bystander.increment(by=7)
        app.record(ctx(), counter, later, bystander)
        name = f"p-{uuid4().hex[:8]}"
        runner = ProjectionRunner(log, store, CounterProjector(name, poison=13), batch_size=100)

        runner.catch_up()

        # The bad event's own row change rolled back with it; everything before it committed;
        # the quarantined tenant's events after it wait, and the other tenant's moved on.
        assert store.position(name) == log.head() > bad > good
        assert self.total(store, counter.id) == 1
        assert self.total(store, later.id) is None
        assert self.total(store, bystander.id) == 9
        assert store.quarantined_for(str(held), [name]) == {name: bad}
        assert store.quarantined_for(str(other), [name]) == {}
        (quarantined,) = [q for q in store.quarantines() if q.name == name]
        assert quarantined.originator_id == str(counter.id)
        assert "Counter.Incremented" in quarantined.topic and "cannot apply" in quarantined.failure
        assert runner.failure is None and store.failed_position(name) is None

        # Replayed while the projector still fails: nothing changes, the new error is kept.
        with pytest.raises(ReplayFailed):
            runner.replay(str(held))
        assert self.total(store, counter.id) == 1 and store.quarantined_for(str(held), [name])
        assert any("replay" in q.failure for q in store.quarantines() if q.name == name)

        # Once fixed, the replay applies exactly the held events, in order, and lifts it.
        fixed = ProjectionRunner(log, store, CounterProjector(name), batch_size=2)
        assert fixed.replay(str(held)) == 3
        assert self.total(store, counter.id) == 19 and self.total(store, later.id) == 0
        assert self.total(store, bystander.id) == 9
        assert store.quarantined_for(str(held), [name]) == {}
        assert fixed.replay(str(held)) == 0  # nothing held: nothing applied twice
        counter.increment(by=100)
        app.record(ctx(), counter)
        fixed.catch_up()
        assert self.total(store, counter.id) == 119

    def test_a_bad_event_of_no_tenant_stops_the_projector_until_an_operator_moves_it_past(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counter = Counter(tenant_id=uuid4())
        app.record(ctx(), counter)
        bad = app.record(ctx(), Beacon(colour="red"))  # the poison, which no tenant owns
        counter.increment(by=5)
        app.record(ctx(), counter)
        name = f"p-{uuid4().hex[:8]}"
        runner = ProjectionRunner(
            log, store, CounterProjector(name, poison=13, beacon="red"), poll_interval_s=0.01
        )
        with pytest.raises(ProjectionFailed) as failure:
            runner.catch_up()
        assert failure.value.position == bad and "Beacon.Lit" in str(failure.value)
        assert store.position(name) == bad - 1
        row = next(r for r in store.tracking() if r["name"] == name)
        assert row["failed_position"] == bad and "red" in row["failure"]
        assert not store.quarantines()

        # As a background thread: stopped there too, alive, waiting for an operator.
        runner = ProjectionRunner(
            log, store, CounterProjector(name, poison=13, beacon="red"), poll_interval_s=0.01
        )
        runner.start()
        try:
            deadline = time.monotonic() + 10
            while runner.failure is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert store.failed_position(name) == bad and runner.running and not runner.dead
            with store.begin() as conn:
                store.place(conn, name, bad)  # what `velora projections skip` does
            runner.wake()
            while store.position(name) < log.head() and time.monotonic() < deadline:
                time.sleep(0.01)
            assert store.position(name) == log.head()
            assert self.total(store, counter.id) == 5  # everything but the skipped event
            assert runner.failure is None and store.failed_position(name) is None
        finally:
            runner.stop()

    def test_a_value_the_model_cannot_hold_quarantines_its_tenant_as_any_bad_event(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        """The database itself refusing the value (SQLite's OverflowError, MariaDB's out of
        range DataError) is the event's fault, not the store's: its tenant is quarantined."""
        held, other = Counter(tenant_id=uuid4()), Counter(tenant_id=uuid4())
        app.record(ctx(), held, other)
        held.increment(by=2**63)
        other.increment(by=4)
        app.record(ctx(), held, other)
        name = f"p-{uuid4().hex[:8]}"
        ProjectionRunner(log, store, CounterProjector(name, wide=True)).catch_up()
        assert store.position(name) == log.head()
        assert self.total(store, other.id) == 4 and self.total(store, held.id) == 0
        assert store.quarantined_for(str(held.tenant_id), [name])

    def test_a_projector_never_passes_the_projectors_it_reads_from(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counters = [Counter(tenant_id=uuid4()) for _ in range(4)]
        for counter in counters:
            app.record(ctx(), counter)
        source = ProjectionRunner(
            log, store, CounterProjector(f"src-{uuid4().hex[:8]}"), batch_size=2
        )
        follower = Follower(f"dst-{uuid4().hex[:8]}", upstream=(source.name,))
        reader = ProjectionRunner(log, store, follower, batch_size=100)
        source.followers.append(reader)
        start = store.position(source.name)

        assert reader.catch_up() == 0  # its source has not moved yet
        assert store.position(reader.name) == start
        source.run_once()
        assert reader._wake.is_set()  # the source's progress wakes its followers
        reader.catch_up()
        assert store.position(reader.name) == store.position(source.name) < log.head()
        assert len(follower.seen) == 2 and max(follower.seen) <= store.position(source.name)
        source.catch_up()
        reader.catch_up()
        assert store.position(reader.name) == log.head()
        assert len(follower.seen) == 4

    def test_an_unreachable_outside_effect_is_retried_not_blamed_on_an_event(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counter = Counter(tenant_id=uuid4())
        counter.increment(by=2)
        app.record(ctx(), counter)
        down = True

        def effect() -> None:
            if down:
                raise EffectUnavailable("the search engine is down")

        name = f"p-{uuid4().hex[:8]}"
        runner = ProjectionRunner(log, store, CounterProjector(name, effect=effect))
        with pytest.raises(EffectUnavailable):
            runner.run_once()
        assert store.position(name) == 0 and self.total(store, counter.id) is None
        assert runner.failure is None
        assert all(r["failed_position"] is None for r in store.tracking() if r["name"] == name)
        down = False
        runner.catch_up()
        assert self.total(store, counter.id) == 2 and store.position(name) == log.head()

    def test_two_runners_of_one_projector_still_apply_each_event_once(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counters = []
        for i in range(20):
            counter = Counter(tenant_id=uuid4())
            counter.increment(by=i + 1)
            app.record(ctx(), counter)
            counters.append(counter)
        name = f"p-{uuid4().hex[:8]}"
        runners = [
            ProjectionRunner(log, store, CounterProjector(name), batch_size=3) for _ in range(2)
        ]
        threads = [threading.Thread(target=r.catch_up) for r in runners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        runners[0].catch_up()

        assert [self.total(store, c.id) for c in counters] == [i + 1 for i in range(20)]

    def counters(self, app: VeloraApplication, n: int, poison_at: int | None = None) -> list[Any]:
        made = []
        for i in range(n):
            counter = Counter(tenant_id=uuid4())
            counter.increment(by=13 if i == poison_at else i + 1)
            app.record(ctx(), counter)
            made.append(counter)
        return made

    def test_a_group_applies_each_batch_once_for_all_its_projectors_upstream_first(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counters = self.counters(app, 9)
        source = ProjectionRunner(log, store, CounterProjector(f"src-{uuid4().hex[:8]}"))
        follower = Follower(f"dst-{uuid4().hex[:8]}", upstream=(source.name,))
        reader = ProjectionRunner(log, store, follower)
        # The follower comes first in the group, yet never runs ahead of its source.
        group = ProjectionGroup(log, store, [source, reader], batch_size=4)
        while group.run_once():
            assert store.position(reader.name) <= store.position(source.name)
        assert [self.total(store, c.id) for c in counters] == [i + 1 for i in range(9)]
        assert store.position(source.name) == store.position(reader.name) == log.head()
        assert len(follower.seen) == 9

    def test_a_bad_event_quarantines_its_tenant_in_its_projector_and_those_reading_from_it(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counters = self.counters(app, 6, poison_at=3)
        bad = log.head() - 4  # the poisoned counter's increment
        tenant = str(counters[3].tenant_id)
        again = Counter(tenant_id=counters[3].tenant_id)  # that tenant's next aggregate
        app.record(ctx(), again)
        poisoned = ProjectionRunner(log, store, CounterProjector(f"bad-{uuid4().hex[:8]}", 13))
        healthy = ProjectionRunner(log, store, Follower(f"ok-{uuid4().hex[:8]}", upstream=()))
        follower = Follower(f"dst-{uuid4().hex[:8]}", upstream=(poisoned.name,))
        reader = ProjectionRunner(log, store, follower)
        group = ProjectionGroup(log, store, [poisoned, healthy, reader])
        group.catch_up()

        names = [poisoned.name, healthy.name, reader.name]
        assert all(store.position(name) == log.head() for name in names)
        assert [self.total(store, c.id) for c in counters] == [1, 2, 3, 0, 5, 6]
        # The reader quarantines the tenant too (its model would be built on a stopped one)...
        assert store.quarantined_for(tenant, names) == {poisoned.name: bad, reader.name: bad}
        assert len(follower.seen) == 6  # ...so it never saw the tenant's aggregate after `bad`
        assert self.total(store, again.id) is None
        assert poisoned.failure is None and store.failed_position(poisoned.name) is None

        # Fixed, replayed upstream first: each applies what it passed over, and lets go.
        poisoned.projector.poison = None  # type: ignore[attr-defined]
        assert poisoned.replay(tenant) == 2  # the poison and the next aggregate's start
        assert reader.replay(tenant) == 1
        assert self.total(store, counters[3].id) == 13 and self.total(store, again.id) == 0
        assert len(follower.seen) == 7 and store.quarantined_for(tenant, names) == {}

    def test_a_group_whose_log_breaks_under_it_says_so_and_goes_on_once_it_is_back(
        self, store: ReadStore, log: EventLog, app: VeloraApplication, tmp_path: Path
    ) -> None:
        """The events table renamed for a moment (a non-transient error, not a lost
        connection): the supervised thread fails visibly, starts again with back-off, and
        applies what was written meanwhile once the table is back."""
        counter = Counter(tenant_id=uuid4())
        app.record(ctx(), counter)
        runner = ProjectionRunner(log, store, CounterProjector(f"p-{uuid4().hex[:8]}"))
        group = ProjectionGroup(log, store, [runner], poll_interval_s=0.01)
        group.start()
        deadline = time.monotonic() + 20

        def until(done: Callable[[], bool]) -> bool:
            while not done() and time.monotonic() < deadline:
                time.sleep(0.01)
            return done()

        try:
            assert until(lambda: store.position(runner.name) == log.head())
            assert group.running and not group.dead and group.crash is None
            raw = sqlite3.connect(tmp_path / "events.sqlite3")
            raw.execute(f"ALTER TABLE {EVENTS_TABLE} RENAME TO {EVENTS_TABLE}_away")
            raw.commit()
            assert until(lambda: group.dead)
            assert group.running and "velora_events" in (group.crash or "")
            raw.execute(f"ALTER TABLE {EVENTS_TABLE}_away RENAME TO {EVENTS_TABLE}")
            raw.commit()
            raw.close()
            counter.increment(by=4)
            app.record(ctx(), counter)
            assert until(lambda: store.position(runner.name) == log.head())
            assert self.total(store, counter.id) == 4
            assert until(lambda: not group.dead) and group.restarts >= 1
        finally:
            group.stop()
        assert not group.dead  # a stopped group is not a dead one

    def test_a_paced_projector_takes_one_batch_per_pace_while_running_and_catches_up_fully(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        self.counters(app, 2)
        slow = Follower(f"paced-{uuid4().hex[:8]}", upstream=())
        slow.pace_s = 3600.0  # one batch an hour: the second run comes too soon
        paced = ProjectionRunner(log, store, slow)
        every = ProjectionRunner(log, store, Follower(f"every-{uuid4().hex[:8]}", upstream=()))
        group = ProjectionGroup(log, store, [paced, every])
        group.run_once(paced=True)
        first = log.head()
        self.counters(app, 2)
        group.run_once(paced=True)
        assert (store.position(paced.name), store.position(every.name)) == (first, log.head())
        group.catch_up()  # unpaced: tests, the CLI and rebuilds wait for everything
        assert store.position(paced.name) == log.head()
        assert len(slow.seen) == len(set(slow.seen)) == 4  # each counter seen once

    def test_a_paused_projector_is_passed_over_and_the_rest_of_its_group_goes_on(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        self.counters(app, 3)
        paused = ProjectionRunner(log, store, CounterProjector(f"paused-{uuid4().hex[:8]}"))
        going = ProjectionRunner(log, store, Follower(f"going-{uuid4().hex[:8]}", upstream=()))
        with store.begin() as conn:
            store.place(conn, paused.name, 0)
            store.pause(conn, [paused.name], by="a rebuild")
        ProjectionGroup(log, store, [paused, going]).catch_up()
        assert (store.position(paused.name), store.position(going.name)) == (0, log.head())

    def test_a_group_claims_its_projectors_rows_in_one_go_passing_over_paused_ones(
        self, store: ReadStore
    ) -> None:
        going, paused, new = (f"{kind}-{uuid4().hex[:8]}" for kind in ("a", "b", "c"))
        with store.begin() as conn:
            store.place(conn, going, 5)
            store.place(conn, paused, 7)
            store.pause(conn, [paused], by="a rebuild")
        with store.begin() as conn:
            assert store.claim_all(conn, {going: 5, paused: 7, new: 0}) == {going, new}
        assert store.positions()[new] == 0  # its row is made on its first claim
        with store.begin() as conn, pytest.raises(TrackingConflict):
            store.claim_all(conn, {going: 4})  # another runner moved it meanwhile

    def test_two_groups_of_the_same_projectors_still_apply_each_event_once(
        self, store: ReadStore, log: EventLog, app: VeloraApplication
    ) -> None:
        counters = self.counters(app, 20)
        names = [f"p-{uuid4().hex[:8]}", f"f-{uuid4().hex[:8]}"]
        groups = [
            ProjectionGroup(
                log,
                store,
                [
                    ProjectionRunner(log, store, CounterProjector(names[0])),
                    ProjectionRunner(log, store, Follower(names[1], upstream=(names[0],))),
                ],
                batch_size=3,
            )
            for _ in range(2)
        ]
        threads = [threading.Thread(target=g.catch_up) for g in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        groups[0].catch_up()
        assert [self.total(store, c.id) for c in counters] == [i + 1 for i in range(20)]
        assert all(store.position(n) == log.head() for n in names)

    def test_every_scoped_query_sees_only_its_tenants(self, store: ReadStore) -> None:
        a, b = str(uuid4()), str(uuid4())
        insert_tenants(store, [a], unique_position())
        insert_tenants(store, [b], unique_position())
        only_a = TenantScope.only(a)
        assert store.one(only_a, tenants, tenants.c.tenant_id == a) is not None
        assert store.one(only_a, tenants, tenants.c.tenant_id == b) is None
        assert store.one(TenantScope.every_tenant(), tenants, tenants.c.tenant_id == b) is not None
        assert store.one(only_a.narrowed_to(b), tenants, tenants.c.tenant_id == b) is None
        page = store.page(only_a, tenants, limit=500, cursor=None)
        assert {r["tenant_id"] for r in page.items} == {a}

    def test_pages_follow_creation_order_and_reject_foreign_cursors(self, store: ReadStore) -> None:
        tenant_ids = [str(uuid4()) for _ in range(5)]
        insert_tenants(store, tenant_ids, unique_position())
        scope = TenantScope(frozenset(tenant_ids))
        seen, cursor = [], None
        while True:
            page = store.page(scope, tenants, limit=2, cursor=cursor)
            seen += [r["tenant_id"] for r in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == tenant_ids
        with pytest.raises(InvalidCursor):
            store.page(scope, tenants, limit=2, cursor="not-a-cursor")

    def test_idempotency_keys_replay_refuse_and_expire(self, store: ReadStore) -> None:
        keys = IdempotencyStore(store, ttl_s=24 * 3600)
        scope, key = f"user:{uuid4()}", "key-1"
        assert keys.claim(scope, key, "h1").outcome == "new"
        assert keys.claim(scope, key, "h1").outcome == "in_flight"
        assert keys.claim(scope, key, "h2").outcome == "mismatch"
        assert keys.claim(f"user:{uuid4()}", key, "h1").outcome == "new"  # scoped per user
        keys.complete(scope, key, 201, [["content-type", "application/json"]], b'{"id":"x"}')
        replay = keys.claim(scope, key, "h1")
        assert (replay.outcome, replay.status_code, replay.body) == ("replay", 201, b'{"id":"x"}')
        assert replay.headers == [["content-type", "application/json"]]
        keys.release(scope, key)
        assert keys.claim(scope, key, "h2").outcome == "new"
        keys.stop()

    def test_a_key_in_flight_lapses_once_its_process_stops_beating(self, store: ReadStore) -> None:
        """Three API processes: one crashes mid-request, one runs a long request, one retries."""
        ttl = 24 * 3600
        crashed, busy, retrier = (
            IdempotencyStore(store, ttl_s=ttl, heartbeat_s=0.05, lapse_s=2.0) for _ in range(3)
        )
        try:
            scope = f"user:{uuid4()}"
            assert crashed.claim(scope, "lost", "h").outcome == "new"
            assert busy.claim(scope, "long", "h").outcome == "new"
            assert retrier.claim(scope, "lost", "h").outcome == "in_flight"  # still beating
            crashed._heartbeat.stop()  # the process dies: no more beats, and no goodbye
            outcome, deadline = "in_flight", time.monotonic() + 30
            while outcome == "in_flight" and time.monotonic() < deadline:
                time.sleep(0.2)
                outcome = retrier.claim(scope, "lost", "h").outcome
            assert outcome == "new"  # its request can no longer be running: the key lapsed
            # A long request in a process that still beats keeps its key, however long.
            time.sleep(3.0)
            assert retrier.claim(scope, "long", "h").outcome == "in_flight"
            busy.stop()  # a clean stop lets its keys go at once
            assert retrier.claim(scope, "long", "h").outcome == "new"
        finally:
            for keys in (crashed, busy, retrier):
                keys.stop()

    def test_housekeeping_purges_only_expired_idempotency_keys(self, store: ReadStore) -> None:
        keys = IdempotencyStore(store, ttl_s=24 * 3600)
        scope = f"user:{uuid4()}"
        for key in ("a", "b"):
            assert keys.claim(scope, key, "h").outcome == "new"
        keys.complete(scope, "a", 201, [], b"{}")

        def kept() -> int:
            query = sa.select(sa.func.count()).where(idempotency_keys.c.scope == scope)
            with store.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())

        keys.purge_expired(datetime.now(UTC) + timedelta(hours=23))
        assert kept() == 2  # not yet expired, done or in flight
        assert keys.purge_expired(datetime.now(UTC) + timedelta(hours=24, minutes=1)) >= 2
        assert kept() == 0
        assert keys.claim(scope, "a", "other").outcome == "new"  # the key is free again
        keys.stop()
