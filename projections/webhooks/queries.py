"""Reads a tenant's webhook endpoints and their deliveries, within the caller's TenantScope."""

from __future__ import annotations

from typing import Any

from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned
from projections.webhooks.outbox import PARTS
from projections.webhooks.tables import webhook_deliveries, webhook_endpoints

STATUSES = ("pending", "delivered", "failing", "dead")


def _when(value: Any) -> Any:
    return None if value is None else zoned(value)


def endpoint_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["endpoint_id"],
        "tenant_id": row["tenant_id"],
        "url": row["url"],
        "events": list(row["events"]),
        "description": row["description"],
        "created_at": zoned(row["created_at"]),
    }


def delivery_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["delivery_id"],
        "endpoint_id": row["endpoint_id"],
        "event_id": row["event_id"],
        "type": row["event_type"],
        "subject": row["subject"],
        "position": row["created_position"] // PARTS,
        "status": row["status"],
        "attempts": row["attempts"],
        "last_status_code": row["last_status_code"],
        "last_error": row["last_error"],
        "created_at": zoned(row["created_at"]),
        "next_attempt_at": _when(row["next_attempt_at"]),
        "delivered_at": _when(row["delivered_at"]),
    }


class WebhookQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def endpoints(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        """The scope's endpoints that are not deleted, oldest first."""
        t = webhook_endpoints
        page = self.store.page(scope, t, t.c.deleted_at.is_(None), limit=limit, cursor=cursor)
        return Page([endpoint_view(r) for r in page.items], page.next_cursor)

    def endpoint(self, scope: TenantScope, endpoint_id: str) -> dict[str, Any] | None:
        t = webhook_endpoints
        row = self.store.one(scope, t, t.c.endpoint_id == endpoint_id, t.c.deleted_at.is_(None))
        return None if row is None else endpoint_view(row)

    def deliveries(
        self,
        scope: TenantScope,
        endpoint_id: str,
        *,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """An endpoint's deliveries in the order its events happened (`status`: only those)."""
        t = webhook_deliveries
        where = [t.c.endpoint_id == endpoint_id]
        if status is not None:
            where.append(t.c.status == status)
        page = self.store.page(scope, t, *where, limit=limit, cursor=cursor)
        return Page([delivery_view(r) for r in page.items], page.next_cursor)

    def delivery(
        self, scope: TenantScope, endpoint_id: str, delivery_id: str
    ) -> dict[str, Any] | None:
        t = webhook_deliveries
        row = self.store.one(
            scope, t, t.c.endpoint_id == endpoint_id, t.c.delivery_id == delivery_id
        )
        return None if row is None else delivery_view(row)
