"""The base every Velora aggregate shares: it belongs to exactly one tenant, and every event it
records says which, so event streams, read models and index documents can all be scoped."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

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
