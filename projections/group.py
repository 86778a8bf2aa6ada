"""Runs every projector of a process from one thread: each batch of the log read once and each
event decoded once, applied upstream first, and all their rows and positions committed in one
read-model transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

from eventstore.log import EventLog
from eventstore.mapper import RecordedEvent
from projections import quarantine
from projections.background import Background
from projections.quarantine import blames_event
from projections.runner import TRANSIENT, ProjectionFailed, ProjectionRunner, link
from projections.store import ReadStore, TrackingConflict

log = logging.getLogger("velora.projections")


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
        # Most projectors handle none of a small batch's events: they only move past it.
        topics = {n.topic for n in batch}
        for runner in members:
            if runner.name not in claimed:
                continue
            runner.quarantined = quarantined[runner.name]
            position = positions.get(runner.name, 0)
            events = batch if position < batch[0].id else [n for n in batch if n.id > position]
            if runner.projector.upstream:
                limit = min(reached.get(name, 0) for name in runner.projector.upstream)
                if events[-1].id > limit:
                    events = [n for n in events if n.id <= limit]
            if not events:
                continue
            if not runner.handles.isdisjoint(topics):
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
