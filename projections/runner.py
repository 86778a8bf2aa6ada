"""Follows the event log and feeds one projector, exactly once per event.

Each batch of events and the projector's new position commit in one read-model transaction, so a
crash at any point neither loses nor doubles an effect. If a batch fails, the runner replays it one
event at a time to commit everything before the bad event; the bad event's tenant is then
quarantined in that projector (projections/quarantine.py) and the rest of the log goes on.
Only an event no tenant can be told of stops the projector, recorded, until an operator acts.
The threads are supervised (`Background`): a loop that dies starts again after a back-off."""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from collections.abc import Iterable, Sequence
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.exc
from eventsourcing.utils import get_topic
from sqlalchemy.engine import Connection

from eventstore.log import EventLog
from eventstore.mapper import RecordedEvent
from projections import quarantine
from projections.quarantine import blames_event
from projections.schema import SHADOW_SUFFIX, projection_tracking
from projections.store import ReadStore, TrackingConflict, utcnow

if TYPE_CHECKING:
    from projections.tables import Tables

log = logging.getLogger("velora.projections")


class EffectUnavailable(RuntimeError):
    """A projector's outside effect (a search engine, say) cannot be reached for now."""


# Failures of the store itself (connection lost, server gone) or of a projector's outside effect:
# retried, never blamed on an event.
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, EffectUnavailable)


class Projector:
    """Folds events into read-model rows. Each subclass defines its own `apply` as a
    singledispatchmethod with one handler per event class; events without one are passed over
    (and never even decoded)."""

    name: str = ""
    # Projectors whose read models this one reads. It never moves past their positions, so what
    # it reads of them always includes the effect of the event it is applying.
    upstream: tuple[str, ...] = ()
    # The read-model tables this projector alone writes: what a rebuild of it fills and swaps.
    writes: tuple[str, ...] = ()
    # At most one batch per this many seconds in a running group (0: every batch). For a sink
    # whose every batch has a fixed cost whatever its size, as a search index's commit has.
    pace_s: float = 0.0

    def __init__(self, tables: Tables | None = None) -> None:
        self.tables = live_tables() if tables is None else tables

    def shadow(self, tables: Tables, rebuilding: Iterable[str]) -> Projector:
        """The same projector writing into a rebuild's shadow tables under its own tracking
        row, and reading the upstream models that are rebuilt with it from their shadows."""
        rebuilt = set(rebuilding)
        copy = type(self)(tables)
        copy.name = self.name + SHADOW_SUFFIX
        copy.upstream = tuple(u + SHADOW_SUFFIX if u in rebuilt else u for u in self.upstream)
        return copy

    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        raise NotImplementedError

    def start_batch(self) -> None:
        """Called before the first event of each batch."""

    def end_batch(self, conn: Connection) -> None:
        """Called after the last event of a batch, before its position commits. A projector
        with an effect outside the read store makes it durable here: if that fails, the batch
        and its position roll back and are applied again."""

    def topics(self) -> frozenset[str]:
        dispatch = inspect.getattr_static(type(self), "apply")
        if not isinstance(dispatch, singledispatchmethod):
            raise TypeError(f"{type(self).__name__}.apply must be a singledispatchmethod")
        registry = dispatch.dispatcher.registry
        return frozenset(get_topic(cls) for cls in registry if cls is not object)


def live_tables() -> Tables:
    """The live read-model tables. Looked up when a projector is made, not when this module is
    imported: the lookup imports every module that defines tables, some of which define their
    projectors on this module."""
    from projections.tables import LIVE

    return LIVE


class ProjectionFailed(RuntimeError):
    def __init__(self, projector: str, recorded: Any, cause: BaseException) -> None:
        self.projector = projector
        self.position = recorded.id
        self.topic = recorded.topic
        super().__init__(
            f"projector {projector!r} stopped at event {recorded.id} ({recorded.topic} "
            f"{recorded.originator_id} v{recorded.originator_version}): {cause!r}"
        )


class Background:
    """A daemon thread running `_loop` until `stop`; `wake` cuts its current wait short.

    The thread is supervised: if `_loop` raises, the error is logged and kept in `crash`, and
    the loop starts again after a back-off that doubles from RESTART_MIN_S up to RESTART_MAX_S,
    so a database that lost a table for a moment stops the work only for that moment. `dead`
    says, for /readyz, the operations view and the metrics, that a started thread is gone or
    its loop is failing; `restarts` counts the restarts."""

    RESTART_MIN_S = 0.5
    RESTART_MAX_S = 10.0

    def __init__(self, thread_name: str) -> None:
        self.thread_name = thread_name
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        # The error the loop last died of, until it runs a round through again.
        self.crash: str | None = None
        self.restarts = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._started = True
        self._thread = threading.Thread(target=self._supervised, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._started = False
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def dead(self) -> bool:
        """Started and not stopped, yet its thread is gone or its loop keeps failing."""
        return self._started and (not self.running or self.crash is not None)

    def _supervised(self) -> None:
        backoff_s = self.RESTART_MIN_S
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                self._loop()
                return
            except Exception as e:
                self.crash = f"{type(e).__name__}: {e}"[: quarantine.FAILURE_CHARS]
                self.restarts += 1
                if time.monotonic() - began > self.RESTART_MAX_S:
                    backoff_s = self.RESTART_MIN_S  # it ran a while: a new trouble
                log.error(
                    "%s failed, starting again in %.1f s",
                    self.thread_name,
                    backoff_s,
                    exc_info=True,
                )
            if self._stop.wait(backoff_s):
                return
            backoff_s = min(backoff_s * 2, self.RESTART_MAX_S)

    def _ran(self) -> None:
        """A round of the loop went through: whatever it died of before is over."""
        self.crash = None

    def _loop(self) -> None:
        raise NotImplementedError


class ProjectionRunner(Background):
    def __init__(
        self,
        log_: EventLog,
        store: ReadStore,
        projector: Projector,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.25,
    ) -> None:
        self.log = log_
        self.store = store
        self.projector = projector
        self.name = projector.name
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        # time.monotonic() of the last batch a paced group gave it; none yet (the clock counts
        # from boot, so a 0 here would hold a paced projector back in its first pace after it)
        self.applied_at = -math.inf
        self.failure: ProjectionFailed | None = None
        # Runners to wake whenever this one moves on (those whose projectors read its models).
        self.followers: list[ProjectionRunner] = []
        # The tenants this projector passes over, each from the position it was quarantined
        # at: read afresh in every batch's transaction (projections/quarantine.py).
        self.quarantined: dict[str, int] = {}
        self._topics = projector.topics()
        super().__init__(f"projector-{self.name}")
        # The group that runs this projector, when it runs in one (see ProjectionGroup).
        self.group: ProjectionGroup | None = None

    # -- one step at a time (tests and the CLI drive these directly) ----------------------------

    def run_once(self) -> int:
        """Applies the next batch. Returns how many events it moved past (0: caught up)."""
        positions = self.store.positions()
        position = positions.get(self.name, 0)
        batch = self.log.read_raw(position, self.batch_size)
        if self.projector.upstream:
            limit = min(positions.get(name, 0) for name in self.projector.upstream)
            batch = [n for n in batch if n.id <= limit]
        if not batch:
            return 0
        try:
            with self.store.begin() as conn:
                self.store.hold(conn, self.name, position)
                self.quarantined = quarantine.of(conn, [self.name])[self.name]
                self._apply_all(conn, batch)
                self.store.advance(conn, self.name, batch[-1].id)
            self._woken()
            return len(batch)
        except TrackingConflict:
            return 0  # another runner did this batch; read again from where it left off
        except TRANSIENT:
            raise
        except Exception as e:
            if not blames_event(e):
                raise
            return self._one_by_one(position, batch)

    def catch_up(self) -> int:
        """Runs batches until the projector has reached the log's head as it was on entry."""
        head, total = self.log.head(), 0
        while self.store.position(self.name) < head:
            moved = self.run_once()
            if moved == 0:
                break
            total += moved
        return total

    def _apply_all(
        self,
        conn: Connection,
        batch: Iterable[Any],
        decoded: dict[int, RecordedEvent] | None = None,
    ) -> None:
        """Applies the events this projector handles, but those of a tenant it quarantined.
        `decoded` shares each event's decoding between the projectors of a group."""
        decoded = {} if decoded is None else decoded
        quarantined = self.quarantined
        self.projector.start_batch()
        for notification in batch:
            if notification.topic in self._topics:
                recorded = decoded.get(notification.id)
                if recorded is None:
                    recorded = decoded[notification.id] = self.log.mapper.to_recorded(notification)
                if quarantined and notification.id >= quarantined.get(
                    _tenant(recorded), notification.id + 1
                ):
                    continue
                self.projector.apply(recorded.event, conn, recorded)
        self.projector.end_batch(conn)

    def apply_within(self, conn: Connection, until: int) -> int:
        """Applies every event up to `until` in the caller's transaction, whose lock on this
        projector's tracking row the caller already holds. Returns the new position."""
        t = projection_tracking
        position = conn.execute(sa.select(t.c.position).where(t.c.name == self.name)).scalar()
        position = position or 0
        self.quarantined = quarantine.of(conn, [self.name])[self.name]
        while position < until:
            batch = [n for n in self.log.read_raw(position, self.batch_size) if n.id <= until]
            if not batch:
                break
            self._apply_all(conn, batch)
            self.store.advance(conn, self.name, batch[-1].id)
            position = batch[-1].id
        return position

    def _one_by_one(self, position: int, batch: Sequence[Any]) -> int:
        """Applies a batch that failed an event at a time: everything before the bad event
        commits, the bad event's tenant is quarantined, and the rest goes on without it."""
        for moved, notification in enumerate(batch):
            try:
                with self.store.begin() as conn:
                    self.store.hold(conn, self.name, position)
                    self.quarantined = quarantine.of(conn, [self.name])[self.name]
                    self._apply_all(conn, [notification])
                    self.store.advance(conn, self.name, notification.id)
            except TrackingConflict:
                return moved
            except TRANSIENT:
                raise
            except Exception as e:
                if not blames_event(e):
                    raise
                try:
                    self._quarantine(position, notification, e)
                except TrackingConflict:
                    return moved
            position = notification.id
        self._woken()
        return len(batch)

    def _quarantine(self, position: int, notification: Any, error: Exception) -> None:
        """Holds back the bad event's tenant here and in every projector downstream, and moves
        past the event. An event no tenant can be told of stops the projector instead, as
        every bad event used to: recorded, and raised as ProjectionFailed."""
        failure = ProjectionFailed(self.name, notification, error)
        tenant_id = self._tenant_of(notification)
        if tenant_id is None:
            self.store.record_failure(self.name, notification.id, str(failure))
            self.failure = failure
            log.error("%s", failure)
            raise failure from error
        downstream = self.downstream()
        failures = {self.name: str(failure)}
        for runner in downstream:
            failures[runner.name] = f"reads {self.name}, which quarantined this tenant: {failure}"
        with self.store.begin() as conn:
            self.store.hold(conn, self.name, position)
            quarantine.add(
                conn,
                failures,
                tenant_id=tenant_id,
                position=notification.id,
                topic=notification.topic,
                originator_id=str(notification.originator_id),
                failures=failures,
                now=utcnow(),
            )
            self.store.advance(conn, self.name, notification.id)
        log.error(
            "projector %s quarantines tenant %s from position %s (and %s downstream): %s",
            self.name,
            tenant_id,
            notification.id,
            [r.name for r in downstream] or "none",
            failure,
        )

    def _tenant_of(self, notification: Any) -> str | None:
        try:
            return _tenant(self.log.mapper.to_recorded(notification)) or None
        except Exception:
            return None  # cannot even be decoded: nobody can say whose it is

    def downstream(self) -> list[ProjectionRunner]:
        """Every runner that reads this one's model, directly or through others."""
        found: list[ProjectionRunner] = []
        for follower in self.followers:
            for runner in (follower, *follower.downstream()):
                if runner not in found:
                    found.append(runner)
        return found

    def replay(self, tenant_id: str) -> int:
        """Applies the events of a tenant this projector quarantined, from where it was stopped
        to where the projector stands now, in one transaction, and lifts the quarantine.
        Returns how many events it applied; raises ReplayFailed (and keeps the quarantine,
        with the new error) if one still fails."""
        try:
            with self.store.begin() as conn:
                upto = self.store.lock(conn, self.name)
                since = quarantine.of(conn, [self.name])[self.name].get(tenant_id)
                if since is None:
                    return 0
                applied = self._replay_within(conn, tenant_id, since - 1, upto)
                quarantine.lift(conn, self.name, tenant_id)
        except TRANSIENT:
            raise
        except Exception as e:
            if not blames_event(e):
                raise
            with self.store.begin() as conn:
                quarantine.note_failure(conn, self.name, tenant_id, f"replay: {e!r}")
            raise ReplayFailed(f"{self.name} still cannot apply tenant {tenant_id}: {e!r}") from e
        log.info("projector %s: tenant %s replayed (%d events)", self.name, tenant_id, applied)
        self._woken()
        return applied

    def _replay_within(self, conn: Connection, tenant_id: str, after: int, upto: int) -> int:
        applied = 0
        topics = sorted(self._topics)
        self.projector.start_batch()
        while after < upto:
            batch = self.log.read_raw(after, self.batch_size, topics)
            if not batch:
                break
            for notification in batch:
                if notification.id > upto:
                    break
                recorded = self.log.mapper.to_recorded(notification)
                if _tenant(recorded) == tenant_id:
                    self.projector.apply(recorded.event, conn, recorded)
                    applied += 1
            after = batch[-1].id
        self.projector.end_batch(conn)
        return applied

    def _woken(self) -> None:
        for follower in self.followers:
            follower.wake()

    # -- as a background thread -----------------------------------------------------------------

    def wake(self) -> None:
        super().wake()
        if self.group is not None:
            self.group.wake()

    def _await_operator(self) -> bool:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                if self.resumable():
                    return True
            except TRANSIENT:
                continue
        return False

    def resumable(self) -> bool:
        """Whether a stopped projector may go on: an operator moved it past its bad event, or
        a fixed projector cleared the failure."""
        if self.store.failed_position(self.name) is not None:
            return False
        log.info("projector %s: resuming after an operator's decision", self.name)
        self.failure = None
        return True

    def _loop(self) -> None:
        backoff_s = self.poll_interval_s
        while not self._stop.is_set():
            try:
                moved = self.run_once()
                backoff_s = self.poll_interval_s
                self._ran()
            except ProjectionFailed:
                # Stopped on a bad event no tenant can be told of, which is recorded. It stays
                # there until an operator acts (`velora projections skip`, or a fixed projector
                # that clears the failure), then goes on from wherever the tracking row says.
                if not self._await_operator():
                    return
                continue
            except TRANSIENT as e:
                log.warning("projector %s: store unavailable, retrying: %s", self.name, e)
                moved, backoff_s = 0, min(backoff_s * 2, 5.0)
            if moved == 0:
                self._wake.wait(backoff_s)
                self._wake.clear()


def link(runners: Sequence[ProjectionRunner]) -> None:
    """Makes each runner wake, and quarantine tenants in, the runners that read its model."""
    by_name = {runner.name: runner for runner in runners}
    for runner in runners:
        for name in runner.projector.upstream:
            source = by_name.get(name)
            if source is not None and runner not in source.followers:
                source.followers.append(runner)


class ReplayFailed(RuntimeError):
    """A quarantined tenant's events still fail in the projector: its quarantine stays."""


def _tenant(recorded: RecordedEvent) -> str:
    """The tenant an event belongs to (every Velora event carries one)."""
    return str(getattr(recorded.event, "tenant_id", ""))


class ProjectionGroup(Background):
    """Runs several projectors from one thread. Each batch of the log is read once and each
    event decoded once; the projectors apply it upstream first, and all their rows and positions
    commit in one read-model transaction, so a projector still never passes those it reads from.

    One thread instead of one per projector: every runner polled the log, the tracking rows and
    its own transaction for every write, and their threads took the interpreter from the API.

    A projector that is paused (a rebuild) is passed over, with whatever reads from it. If a
    batch fails on an event, each projector runs it on its own: everything before the bad event
    commits, the one that fails quarantines that event's tenant (projections/quarantine.py), as
    do those that read from it, and every other tenant's events go on. A failure that is the
    store's, not an event's, is raised to the supervisor, which starts the loop again later."""

    def __init__(
        self,
        log_: EventLog,
        store: ReadStore,
        runners: Sequence[ProjectionRunner],
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.25,
    ) -> None:
        self.log = log_
        self.store = store
        self.runners = list(runners)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        super().__init__("projectors")
        link(self.runners)
        for runner in self.runners:
            runner.group = self

    def run_once(self, paced: bool = False) -> int:
        """Applies the next batch for every projector that is not stopped (`paced`: and whose
        pace allows one now). Returns how many events the furthest-behind of them moved past
        (0: all caught up, or kept back)."""
        members = [r for r in self.runners if r.failure is None]
        if paced:
            now = time.monotonic()
            members = [r for r in members if now - r.applied_at >= r.projector.pace_s]
        if not members:
            return 0
        positions = self.store.positions()
        start = min(positions.get(r.name, 0) for r in members)
        batch = self.log.read_raw(start, self.batch_size)
        if not batch:
            return 0
        try:
            with self.store.begin() as conn:
                moved = self._apply(conn, members, positions, batch)
            return moved
        except TrackingConflict:
            return 0  # another process ran one of these first; read again from where it is
        except TRANSIENT:
            raise
        except Exception as e:
            if not blames_event(e):
                raise
            return self._each_alone(members)

    def _apply(
        self,
        conn: Connection,
        members: list[ProjectionRunner],
        positions: dict[str, int],
        batch: Sequence[Any],
    ) -> int:
        decoded: dict[int, RecordedEvent] = {}
        reached = dict(positions)
        advanced: dict[str, int] = {}
        moved = 0
        # One statement locks the rows of every projector the batch takes further.
        claimed = self.store.claim_all(
            conn,
            {
                r.name: positions.get(r.name, 0)
                for r in members
                if batch[-1].id > positions.get(r.name, 0)
            },
        )
        quarantined = quarantine.of(conn, claimed)
        for runner in members:
            if runner.name not in claimed:
                continue
            runner.quarantined = quarantined[runner.name]
            position = positions.get(runner.name, 0)
            events = [n for n in batch if n.id > position]
            if runner.projector.upstream:
                limit = min(reached.get(name, 0) for name in runner.projector.upstream)
                events = [n for n in events if n.id <= limit]
            if not events:
                continue
            runner._apply_all(conn, events, decoded)
            runner.applied_at = time.monotonic()
            reached[runner.name] = advanced[runner.name] = events[-1].id
            moved = max(moved, len(events))
        # Every claimed row is locked already: advancing them together cannot deadlock.
        self.store.advance_all(conn, advanced)
        return moved

    def _each_alone(self, members: list[ProjectionRunner]) -> int:
        moved = 0
        for runner in members:
            try:
                moved += runner.run_once()
            except ProjectionFailed:
                moved += 1  # recorded and stopped; the others go on
        return moved

    def catch_up(self) -> int:
        """Runs batches until every projector has reached the log's head as it was on entry."""
        head, total = self.log.head(), 0
        while True:
            moved = self.run_once()
            total += moved
            if moved == 0 or all(
                self.store.position(r.name) >= head for r in self.runners if r.failure is None
            ):
                return total

    # -- as a background thread -----------------------------------------------------------------

    def _loop(self) -> None:
        backoff_s = self.poll_interval_s
        while not self._stop.is_set():
            try:
                for runner in self.runners:
                    if runner.failure is not None:
                        runner.resumable()
                moved = self.run_once(paced=True)
                backoff_s = self.poll_interval_s
                self._ran()
            except TRANSIENT as e:
                log.warning("projectors: store unavailable, retrying: %s", e)
                moved, backoff_s = 0, min(backoff_s * 2, 5.0)
            if moved == 0:
                self._wake.wait(backoff_s if all(r.failure is None for r in self.runners) else 1.0)
                self._wake.clear()
