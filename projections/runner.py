"""Follows the event log and feeds one projector, exactly once per event.

Each batch of events and the projector's new position commit in one read-model transaction, so a
crash at any point neither loses nor doubles an effect. If a batch fails, the runner replays it one
event at a time to commit everything before the bad event; the bad event's tenant is then
quarantined in that projector (projections/quarantine.py) and the rest of the log goes on.
Only an event no tenant can be told of stops the projector, recorded, until an operator acts.
What a projector is: projections/projector.py; many of them run from one thread as a group
(projections/group.py); the threads are supervised (projections/background.py)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.engine import Connection

from eventstore.log import EventLog
from eventstore.mapper import RecordedEvent
from projections import quarantine
from projections.background import Background
from projections.projector import EffectUnavailable, Projector
from projections.quarantine import blames_event
from projections.schema import projection_tracking
from projections.store import ReadStore, TrackingConflict, utcnow

log = logging.getLogger("velora.projections")

# Failures of the store itself (connection lost, server gone) or of a projector's outside effect:
# retried, never blamed on an event.
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, EffectUnavailable)


class ProjectionFailed(RuntimeError):
    def __init__(self, projector: str, recorded: Any, cause: BaseException) -> None:
        self.projector = projector
        self.position = recorded.id
        self.topic = recorded.topic
        super().__init__(
            f"projector {projector!r} stopped at event {recorded.id} ({recorded.topic} "
            f"{recorded.originator_id} v{recorded.originator_version}): {cause!r}"
        )


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
        self.handles = projector.topics()  # the topics of the events it applies
        super().__init__(f"projector-{self.name}")
        # The thread that runs this projector with others, when one does: a ProjectionGroup
        # (projections/group.py), seen here only as the Background it is, which is all a runner
        # needs of it (to wake it) and all the operations view reads of it (running, restarts).
        # The group imports the runner, never the other way round.
        self.group: Background | None = None

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
            if notification.topic in self.handles:
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
        topics = sorted(self.handles)
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
