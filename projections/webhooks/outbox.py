"""The webhook outbox: for each integration event an endpoint receives, a delivery, made in the
same read-model transaction as the projector's position in the log. The log is the outbox: an
event is recorded once, and its deliveries exist once the outbox has passed it, so nothing can
be lost between a change and its delivery, and a batch applied again (after a crash, a replay
of a quarantined tenant) makes no delivery twice (each one's id derives from its endpoint and
its CloudEvent's).

Who receives an event is decided at its position: the endpoints of its tenant registered before
it and not deleted before it, that subscribe to its type. This projector reads the endpoints
model (`upstream`), so that model has always applied at least as far as the event at hand.

It writes no read model a rebuild could swap (`writes` is empty): its deliveries carry what the
dispatcher did with them, which no replay of the log could make again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Connection

from domain.webhooks import receives
from eventstore.integration import IntegrationEvent, Translator
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc
from projections.webhooks.tables import webhook_deliveries, webhook_endpoints

# The order key of a delivery: the log position times PARTS + the index of its CloudEvent among
# those its log event gives (a handful at most).
PARTS = 64


def delivery_id(endpoint_id: str, event_id: UUID) -> str:
    return str(uuid5(NAMESPACE_URL, f"velora:webhook-delivery:{endpoint_id}:{event_id}"))


class WebhookOutboxProjector(Projector):
    name = "webhook_outbox"
    upstream = ("webhook_endpoints",)

    def __init__(self, translator: Translator, encode: Callable[[IntegrationEvent], bytes]) -> None:
        super().__init__()
        self.translator = translator
        self.encode = encode
        self._receivers: dict[str, list[dict[str, Any]]] | None = None

    def topics(self) -> frozenset[str]:
        return self.translator.topics

    def start_batch(self) -> None:
        self._receivers = None  # read again: endpoints may have come or gone since

    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        position = recorded.position
        endpoints = [
            e
            for e in self._endpoints(conn, position).get(str(event.tenant_id), ())
            if e["created_position"] < position
            and (e["deleted_position"] is None or e["deleted_position"] > position)
        ]
        if not endpoints:
            return  # most tenants have none: nothing is translated for them
        rows = []
        for part, published in enumerate(self.translator.translate(recorded)):
            assert part < PARTS, "more CloudEvents from one event than the order key holds"
            body = self.encode(published).decode()
            for endpoint in endpoints:
                if receives(endpoint["events"], published.type):
                    rows.append(_delivery(endpoint, published, position * PARTS + part, body))
        if rows:
            conn.execute(_insert_new(conn.dialect.name), rows)

    def _endpoints(self, conn: Connection, position: int) -> dict[str, list[dict[str, Any]]]:
        """The endpoints that may receive an event of this batch, by tenant, read once a batch."""
        if self._receivers is None:
            t = webhook_endpoints
            live = sa.or_(t.c.deleted_position.is_(None), t.c.deleted_position > position)
            self._receivers = {}
            for row in conn.execute(
                sa.select(
                    t.c.endpoint_id,
                    t.c.tenant_id,
                    t.c.events,
                    t.c.created_position,
                    t.c.deleted_position,
                ).where(live)
            ):
                self._receivers.setdefault(row.tenant_id, []).append(dict(row._mapping))
        return self._receivers


def _delivery(
    endpoint: dict[str, Any], published: IntegrationEvent, order: int, body: str
) -> dict[str, Any]:
    made = naive_utc(published.time)
    return {
        "delivery_id": delivery_id(endpoint["endpoint_id"], published.id),
        "tenant_id": str(published.tenant_id),
        "endpoint_id": endpoint["endpoint_id"],
        "event_id": str(published.id),
        "event_type": published.type,
        "subject": str(published.key),
        "created_position": order,
        "body": body,
        "status": "pending",
        "attempts": 0,
        "created_at": made,
        "next_attempt_at": made,
    }


def _insert_new(dialect: str) -> Any:
    """An insert that passes over a delivery already made."""
    if dialect == "sqlite":
        return sqlite.insert(webhook_deliveries).on_conflict_do_nothing()
    insert = mysql.insert(webhook_deliveries)
    return insert.on_duplicate_key_update(delivery_id=insert.inserted.delivery_id)
