"""The base every Velora aggregate shares: it belongs to exactly one tenant, and every event it
records says which, so event streams, read models and index documents can all be scoped."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, register_topic

# The platform itself is tenant zero: super admins and other cross-tenant staff live here.
PLATFORM_TENANT_ID = UUID(int=0)


class TenantAggregate(Aggregate):
    """An aggregate owned by one tenant. Its tenant never changes."""

    tenant_id: UUID

    class Event(Aggregate.Event):
        tenant_id: UUID

    class Created(Event, Aggregate.Created):
        pass

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        # Every event after the first inherits the aggregate's tenant, so no command can forget it.
        kwargs.setdefault("tenant_id", self.tenant_id)
        super().trigger_event(event_class, **kwargs)


# The topics events were stored under before their class moved or was renamed: old -> class.
_FORMER: dict[str, type] = {}


def formerly(old_topic: str, cls: type) -> None:
    """Events stored under `old_topic` load as `cls`'s: a renamed event class, or an aggregate
    class that moved (its nested events follow it). Stored events are never rewritten."""
    register_topic(old_topic, cls)
    _FORMER[old_topic] = cls


def topics_of(cls: type) -> frozenset[str]:
    """Every topic events of `cls` are stored under: its own, and those it had before (what
    reads the log by topic must ask for all of them)."""
    topics = {get_topic(cls)}
    for old, new in _FORMER.items():
        if cls is new:
            topics.add(old)
        elif cls.__module__ == new.__module__ and cls.__qualname__.startswith(
            f"{new.__qualname__}."
        ):
            topics.add(old + cls.__qualname__[len(new.__qualname__) :])
    return frozenset(topics)
