"""Reads profiles and saved addresses within a tenant scope, and shapes them as `GET /v1/me` and
its addresses answer them."""

from __future__ import annotations

from typing import Any

from projections.profiles.tables import BLANK, addresses, profiles
from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned


def profile_json(row: dict[str, Any] | None) -> dict[str, Any]:
    """A profile as `GET /v1/me` shows it (blank until its person changes something)."""
    if row is None:
        return {**BLANK, "marketing_changed_at": None}
    changed = row["marketing_changed_at"]
    return {
        **{k: row[k] for k in BLANK},
        "marketing_changed_at": zoned(changed) if changed is not None else None,
    }


def address_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["address_id"],
        **row["address"],
        "default": bool(row["is_default"]),
        "created_at": zoned(row["created_at"]),
        "updated_at": zoned(row["updated_at"]),
    }


class ProfileQueries:
    """Reads profiles and saved addresses, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def profile(self, scope: TenantScope, user_id: str) -> dict[str, Any]:
        return profile_json(self.store.one(scope, profiles, profiles.c.user_id == user_id))

    def addresses(
        self, scope: TenantScope, user_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        page = self.store.page(
            scope, addresses, addresses.c.user_id == user_id, limit=limit, cursor=cursor
        )
        return Page([address_json(r) for r in page.items], page.next_cursor)

    def address(self, scope: TenantScope, user_id: str, address_id: str) -> dict[str, Any] | None:
        row = self.store.one(
            scope,
            addresses,
            addresses.c.address_id == address_id,
            addresses.c.user_id == user_id,
        )
        return address_json(row) if row is not None else None
