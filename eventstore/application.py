"""The base of Velora's applications: each bounded context is its own eventsourcing Application,
all of them writing to the one shared event log."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import ApplicationRecorder, EventStore, IntegrityError, Mapper

from domain.errors import Conflict, NotFound
from eventstore.cache import AggregateCache
from eventstore.context import CommandContext, recording_under
from eventstore.log import EventLog

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# How often a command runs again after a conflicting save before it gives up (see `retrying`).
MAX_ATTEMPTS = 80


class Contention(Conflict):
    """A command lost the race to save MAX_ATTEMPTS times in a row: the caller may try again."""

    title = "Too much contention"


class PriceAgain(Exception):
    """An attempt of a command decided on something that changed before it could save (an
    automatic promotion used up since the checkout priced it in): `retrying` runs it again on
    fresh state, as after a conflicting save."""


def command(method: F) -> F:
    """Marks an application method as one command: its loads look at the log once, at the
    first of them, rather than before each (see eventstore/cache.py)."""

    @functools.wraps(method)
    def run(self: VeloraApplication, *args: Any, **kwargs: Any) -> Any:
        with self._log.aggregates.command():
            return method(self, *args, **kwargs)

    return run  # type: ignore[return-value]


@dataclass(frozen=True)
class CommandResult:
    """What every command returns: the id it concerns and the log position of its last event."""

    id: UUID
    position: int
    created: bool = True


class CachedRepository(Repository[UUID]):
    """Loads current aggregates through the process's shared AggregateCache; a past version
    (the audit trail's) still replays the store."""

    def __init__(self, event_store: EventStore[UUID], cache: AggregateCache) -> None:
        super().__init__(event_store)
        self.shared_cache = cache

    def get(self, aggregate_id: UUID, *, version: int | None = None, **kwargs: Any) -> Any:
        if version is not None or kwargs.get("projector_func", project_aggregate) is not (
            project_aggregate
        ):
            return super().get(aggregate_id, version=version, **kwargs)
        return self.shared_cache.get(aggregate_id, lambda: self._load(aggregate_id), self._forward)

    def shared_or_none(self, aggregate_id: UUID) -> Any | None:
        """The current aggregate as the cache keeps it, shared by every thread: to read only.
        None if there is no such aggregate, an absence the cache then remembers."""

        def load_or_none() -> Any | None:
            try:
                return self._load(aggregate_id)
            except AggregateNotFoundError:
                return None

        return self.shared_cache.get(aggregate_id, load_or_none, self._forward, shared=True)

    def _load(self, aggregate_id: UUID) -> MutableOrImmutableAggregate[UUID]:
        return self._reconstruct_aggregate(aggregate_id, None, project_aggregate)  # type: ignore[arg-type]

    def _forward(self, aggregate: Any) -> Any:
        """The aggregate with the events stored after its version applied."""
        newer = self.event_store.get(originator_id=aggregate.id, gt=aggregate.version)
        return project_aggregate(aggregate, newer)


class VeloraApplication(Application[UUID]):
    def __init__(self, log: EventLog, on_recorded: Callable[[int], None] | None = None) -> None:
        self._log = log
        self._on_recorded = on_recorded
        super().__init__(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def construct_recorder(self) -> ApplicationRecorder:
        return self._log.recorder

    def construct_mapper(self) -> Mapper[UUID]:
        return self._log.mapper

    def construct_repository(self) -> Repository[UUID]:
        return CachedRepository(self.events, self._log.aggregates)

    def record(self, ctx: CommandContext, *aggregates: Any) -> int:
        """Saves the aggregates' new events atomically and returns the last event's position."""
        cache = self._log.aggregates
        era = cache.era()
        try:
            with recording_under(ctx):
                recordings = self.save(*aggregates)
        except IntegrityError:
            cache.forget([a.id for a in aggregates])
            raise
        cache.saved(aggregates, era)
        # Saving nothing new (an unchanged aggregate) answers the log's current position.
        position = max(r.notification.id for r in recordings) if recordings else self._log.head()
        if self._on_recorded is not None:
            self._on_recorded(position)
        return position

    def retrying(self, attempt: Callable[[], T], gave_up: str) -> T:
        """Runs one attempt of a command (load, decide, record) until its save goes through.
        A save conflicts (IntegrityError) when another command changed one of its aggregates
        first, and an attempt may find what it decided on has changed (PriceAgain); the
        attempt then runs again on fresh state after a short random pause, longer each time,
        so racing commands stop colliding in lockstep. After MAX_ATTEMPTS conflicts in a row
        it raises Contention with `gave_up` as the detail."""
        for n in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except (IntegrityError, PriceAgain):
                time.sleep(random.uniform(0, 0.002 * min(n + 1, 10)))
        raise Contention(gave_up)

    def get_or_none(self, aggregate_id: UUID) -> Any | None:
        """The aggregate's current state, a private copy the command may change and save."""
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def read_or_none(self, aggregate_id: UUID) -> Any | None:
        """The aggregate's current state to read, never to change: the copy the process's cache
        keeps, shared with every thread, so no copy is made (a request's account check, the
        products a checkout prices). A command that changes an aggregate uses `get_or_none`."""
        repository = self.repository
        assert isinstance(repository, CachedRepository)
        return repository.shared_or_none(aggregate_id)

    def load(
        self,
        kind: type[T],
        aggregate_id: UUID,
        within: UUID | None,
        missing: type[NotFound],
        *,
        reading: bool = False,
    ) -> T:
        """Loads an aggregate of one kind for a command (`reading`: only to read it, see
        `read_or_none`). Unknown, of another kind, or of another tenant than `within` (None:
        the actor crosses tenants) all raise the same not-found."""
        aggregate = self.read_or_none(aggregate_id) if reading else self.get_or_none(aggregate_id)
        if not isinstance(aggregate, kind) or (
            within is not None and getattr(aggregate, "tenant_id", None) != within
        ):
            raise missing(f"{kind.__name__.lower()} {aggregate_id} not found")
        return aggregate
