"""The auditor's view of the event store: every event of one aggregate, and the aggregate as it was
at any version or moment, rebuilt by replaying its own events. This is the one reader that goes
to the event store instead of the read models: an audit must show what was recorded, not what a
projection made of it. Except secrets (domain/secrets.py): each event's secret fields are
concealed as it is read, before it is shown or replayed, so neither the history, nor the state,
nor the snapshots kept of it ever hold one."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import IntegrityError, PersistenceError, StoredEvent
from eventsourcing.utils import resolve_topic

from domain.audit import (
    PeriodAlreadySealed,
    PeriodSeal,
    ProjectionSkip,
    TenantReplay,
    period_end,
)
from domain.errors import Conflict, Invalid, NotFound
from domain.personal import personal_fields
from domain.secrets import secret_fields, without_secrets
from domain.times import rfc3339
from eventstore.application import CommandResult
from eventstore.context import CommandContext, recording_under
from eventstore.log import EventLog
from eventstore.verify import Verifier, sealed_balance
from services.base import ServiceApplication

log = logging.getLogger("velora.audit")
SNAPSHOT_EVERY = 100
SNAPSHOTTER = CommandContext.system("audit:snapshot")


class StreamNotFound(NotFound):
    title = "No such aggregate"


class NoSuchVersion(NotFound):
    title = "No such version"


class InvalidAsOf(Invalid):
    title = "Invalid point in time"


def jsonable(value: Any) -> Any:
    """A value as plain JSON: ids and times as strings, amounts exact, enums by value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(jsonable(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: jsonable(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def type_name(topic: str) -> str:
    """`domain.orders:Order.Paid` → `Order.Paid`."""
    return topic.rsplit(":", 1)[-1]


class AuditTrail:
    def __init__(self, log: EventLog) -> None:
        self.log = log

    def _stored(self, aggregate_id: UUID, *, after: int = 0, upto: int | None = None) -> list[Any]:
        return list(self.log.recorder.select_events(aggregate_id, gt=after or None, lte=upto))

    def _event(self, stored: StoredEvent) -> Any:
        """The domain event, its secret fields concealed, as replaying it may see it."""
        event: Any = self.log.mapper.to_domain_event(stored)
        if not secret_fields(type(event)):
            return event
        # Built as the mapper builds events: an event's state is its __dict__.
        concealed = object.__new__(type(event))
        object.__setattr__(concealed, "__dict__", without_secrets(type(event), vars(event)))
        return concealed

    def history(
        self, aggregate_id: UUID, *, after: int = 0, limit: int = 500
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to `limit` events of one aggregate in version order after version `after`, and
        whether more follow."""
        stored = self._stored(aggregate_id, after=after, upto=after + limit + 1)
        if not stored and after == 0:
            raise StreamNotFound(f"no aggregate {aggregate_id} has been recorded")
        more = len(stored) > limit
        items = []
        for s in stored[:limit]:
            data, meta = self.log.mapper.decode_envelope(s)
            data = without_secrets(resolve_topic(s.topic), data)
            items.append(
                {
                    "version": s.originator_version,
                    "type": type_name(s.topic),
                    "timestamp": jsonable(data.get("timestamp")),
                    "actor": meta.get("actor_id"),
                    "tenant_id": jsonable(data.get("tenant_id")),
                    "correlation_id": meta.get("correlation_id"),
                    "data": jsonable(
                        {k: v for k, v in data.items() if k not in ("timestamp", "tenant_id")}
                    ),
                }
            )
        return items, more

    def state(
        self, aggregate_id: UUID, *, version: int | None = None, at: datetime | None = None
    ) -> dict[str, Any]:
        """The aggregate as it was at `version`, or just after the last event at or before `at`,
        or now. Starts from the nearest snapshot at or before that point, and leaves a snapshot
        every SNAPSHOT_EVERY versions it replays through, so long streams stay fast."""
        if version is not None and at is not None:
            raise InvalidAsOf("ask for a version or a time, not both")
        if at is not None and at.tzinfo is None:
            raise InvalidAsOf("a time must say its zone, e.g. 2026-11-21T09:00:00Z")
        if version is not None and version < 1:
            raise InvalidAsOf("versions start at 1")
        aggregate: Any = self._nearest_snapshot(aggregate_id, version, at)
        start = aggregate.version if aggregate is not None else 0
        stored = self._stored(aggregate_id, after=start, upto=version)
        if aggregate is None and not stored:
            raise StreamNotFound(f"no aggregate {aggregate_id} has been recorded")
        last = stored[-1].originator_version if stored else start
        if version is not None and last < version:
            raise NoSuchVersion(f"aggregate {aggregate_id} has {last} versions")
        personal = False
        for s in stored:
            event = self._event(s)
            if at is not None and event.timestamp > at:
                break
            aggregate = event.mutate(aggregate)
            # State holding personal data is never snapshotted: a snapshot is not sealed, and
            # would outlive the person's key.
            personal = personal or bool(personal_fields(type(event)))
            if aggregate.version % SNAPSHOT_EVERY == 0 and not personal:
                self._snapshot(aggregate)
        if aggregate is None:
            raise NoSuchVersion(f"aggregate {aggregate_id} did not exist yet at {at}")
        return {
            "id": str(aggregate_id),
            "type": type(aggregate).__qualname__,
            "version": aggregate.version,
            "created_on": jsonable(aggregate.created_on),
            "modified_on": jsonable(aggregate.modified_on),
            # Every public attribute the events have set, not only those the constructor takes.
            "state": {k: jsonable(v) for k, v in vars(aggregate).items() if not k.startswith("_")},
        }

    def _nearest_snapshot(
        self, aggregate_id: UUID, version: int | None, at: datetime | None
    ) -> Any | None:
        for stored in self.log.snapshots.select_events(aggregate_id, lte=version, desc=True):
            aggregate = self.log.mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
            if at is None or aggregate.modified_on <= at:
                return aggregate
        return None

    def _snapshot(self, aggregate: Any) -> None:
        try:
            with recording_under(SNAPSHOTTER):
                stored = self.log.mapper.to_stored_event(Snapshot.take(aggregate))
        except (TypeError, ValueError):
            return  # state JSON cannot hold (short-lived aggregates): replayed in full instead
        try:
            self.log.snapshots.insert_events([stored])
        except IntegrityError:
            pass  # another reader took the same one
        except PersistenceError as e:
            # A snapshot only saves time: an answer never fails for want of one.
            log.warning("could not keep a snapshot of %s: %s", aggregate.id, e)


class NotStoppedThere(Conflict):
    title = "The projector is not stopped there"


class OperatorApplication(ServiceApplication):
    """Operators' decisions that the record must keep: period seals and skipped events."""

    def record_skip(self, ctx: CommandContext, projector: str, position: int, failure: str) -> int:
        """Records that `projector` is moved past the event at `position` (once: a repeat
        answers the first record's position)."""
        skip = ProjectionSkip.skip(projector, position, failure)
        try:
            return self.record(ctx, skip)
        except IntegrityError:
            return self._log.head()

    def record_replay(self, ctx: CommandContext, tenant_id: UUID, replayed: dict[str, int]) -> int:
        """Records that the tenant's quarantined events were replayed into these projectors."""
        return self.record(ctx, TenantReplay.replayed(tenant_id, replayed))

    def seal_period(  # seals a tenant's month, after verifying the whole log
        self, ctx: CommandContext, tenant_id: UUID, period: str, now: datetime
    ) -> tuple[CommandResult, PeriodSeal]:
        sealed = PeriodAlreadySealed(f"{period} is already sealed for tenant {tenant_id}")
        if self.get_or_none(PeriodSeal.create_id(tenant_id, period)) is not None:
            raise sealed
        period_end(period)  # a malformed period is refused before the whole log is read
        found = Verifier(self._log).verify()
        if not found.intact:
            raise ChainBroken(
                "the log does not verify, so nothing can be sealed: run `velora audit verify`"
            )
        seal = PeriodSeal.seal(
            tenant_id,
            period,
            now=now,
            position=found.head_position,
            chain_hash=found.head_hash,
            trial_balance=sealed_balance(
                [row for row in found.trial_balance if row["tenant_id"] == str(tenant_id)]
            ),
        )
        try:
            position = self.record(ctx, seal)
        except IntegrityError:
            raise sealed from None
        return CommandResult(seal.id, position), seal


class ChainBroken(Conflict):
    title = "The log does not verify"
