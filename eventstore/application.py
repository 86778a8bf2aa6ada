"""The base of Velora's applications: each bounded context is its own eventsourcing Application,
all of them writing to the one shared event log."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, Mapper

from domain.errors import NotFound
from eventstore.context import CommandContext, recording_under
from eventstore.log import EventLog

T = TypeVar("T")


@dataclass(frozen=True)
class CommandResult:
    """What every command returns: the id it concerns and the log position of its last event."""

    id: UUID
    position: int
    created: bool = True


class VeloraApplication(Application[UUID]):
    def __init__(self, log: EventLog, on_recorded: Callable[[int], None] | None = None) -> None:
        self._log = log
        self._on_recorded = on_recorded
        # A cache that fast-forwards: every load still reads the store, but only the events
        # after the cached version, so a long-lived aggregate (a ledger account touched by every
        # order) does not replay its whole history on each command. Callers get a deep copy, and
        # several processes can write, because the store, not the cache, decides what is current.
        super().__init__(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.popo",
                "AGGREGATE_CACHE_MAXSIZE": "10000",
                "AGGREGATE_CACHE_FASTFORWARD": "y",
            }
        )

    def construct_recorder(self) -> ApplicationRecorder:
        return self._log.recorder

    def construct_mapper(self) -> Mapper[UUID]:
        return self._log.mapper

    def record(self, ctx: CommandContext, *aggregates: Any) -> int:
        """Saves the aggregates' new events atomically and returns the last event's position."""
        with recording_under(ctx):
            recordings = self.save(*aggregates)
        # Saving nothing new (an unchanged aggregate) answers the log's current position.
        position = max(r.notification.id for r in recordings) if recordings else self._log.head()
        if self._on_recorded is not None:
            self._on_recorded(position)
        return position

    @staticmethod
    def pause_after_conflict(attempt: int) -> None:
        """Waits a little, randomly and longer each time, before a command runs again on fresh
        state, so racing commands stop colliding in lockstep."""
        time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))

    def get_or_none(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def load(
        self, kind: type[T], aggregate_id: UUID, within: UUID | None, missing: type[NotFound]
    ) -> T:
        """Loads an aggregate of one kind for a command. Unknown, of another kind, or of another
        tenant than `within` (None: the actor crosses tenants) all raise the same not-found."""
        aggregate = self.get_or_none(aggregate_id)
        if not isinstance(aggregate, kind) or (
            within is not None and getattr(aggregate, "tenant_id", None) != within
        ):
            raise missing(f"{kind.__name__.lower()} {aggregate_id} not found")
        return aggregate
