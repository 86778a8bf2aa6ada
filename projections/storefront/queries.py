"""Reads a tenant's publishable keys within a tenant scope, in the shape API.md answers them."""

from __future__ import annotations

from typing import Any

from domain.storefront import PREFIX
from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned
from projections.storefront.tables import publishable_keys


def key_view(row: dict[str, Any]) -> dict[str, Any]:
    deleted_at = row["deleted_at"]
    return {
        "id": row["key_id"],
        "tenant_id": row["tenant_id"],
        "name": row["name"],
        "redacted": f"{PREFIX}…{row['hint']}",
        "status": "active" if deleted_at is None else "deleted",
        "created_at": zoned(row["created_at"]),
        "deleted_at": None if deleted_at is None else zoned(deleted_at),
    }


class StorefrontQueries:
    """Reads publishable keys, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def keys(
        self,
        scope: TenantScope,
        tenant_id: str,
        *,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """A tenant's keys, oldest first; `status` `active` or `deleted` narrows them."""
        t = publishable_keys
        where = [t.c.tenant_id == tenant_id]
        if status == "active":
            where.append(t.c.deleted_at.is_(None))
        elif status == "deleted":
            where.append(t.c.deleted_at.is_not(None))
        page = self.store.page(scope, t, *where, limit=limit, cursor=cursor)
        return Page([key_view(r) for r in page.items], page.next_cursor)
