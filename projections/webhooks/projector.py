"""The webhook endpoints projector: each tenant's endpoints, when each was registered and
deleted (by log position, which the outbox reads to know who receives an event)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.webhooks import WebhookEndpoint
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class WebhookEndpointsProjector(Projector):
    name = "webhook_endpoints"
    writes = ("webhook_endpoints",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        return None

    @apply.register
    def _registered(
        self, e: WebhookEndpoint.Registered, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.webhook_endpoints.insert().values(
                endpoint_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                url=e.url,
                events=list(e.events),
                description=e.description,
                sealed_secret=e.sealed_secret,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _deleted(self, e: WebhookEndpoint.Deleted, conn: Connection, r: RecordedEvent) -> None:
        table = self.tables.webhook_endpoints
        conn.execute(
            table.update()
            .where(table.c.endpoint_id == str(e.originator_id))
            .values(deleted_at=naive_utc(e.timestamp), deleted_position=r.position)
        )
