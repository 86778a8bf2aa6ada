"""A tiny aggregate for exercising the event store itself, apart from any business context."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import TenantAggregate


class Counter(TenantAggregate):
    @event("Started")
    def __init__(self, tenant_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by
