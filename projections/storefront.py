"""The publishable keys read model: what a marketplace admin's list of keys shows. It holds each
key's name, its hint (last characters) and when it was made and deleted; never the key or its
digest. Nothing checks a key against this model: a guest's key is checked against its aggregate
(services/storefront.py), so a deletion holds before this model has caught up."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.storefront import PREFIX, PublishableKey
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.schema import Id, Timestamp, metadata
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned

# A marketplace's publishable keys as its admins list them: never the key or its digest (those
# stay on the write side, where guests' keys are checked).
publishable_keys = sa.Table(
    "publishable_keys",
    metadata,
    sa.Column("key_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("hint", sa.String(8), nullable=False),  # the key's last characters
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", Timestamp, nullable=True),
    sa.Index("ix_publishable_keys_tenant", "tenant_id", "created_position"),
)


class StorefrontProjector(Projector):
    name = "storefront"
    writes = ("publishable_keys",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the keys."""

    @apply.register
    def _created(self, e: PublishableKey.Created, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.publishable_keys.insert().values(
                key_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                name=e.name,
                hint=e.hint,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _deleted(self, e: PublishableKey.Deleted, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.publishable_keys
        conn.execute(
            t.update()
            .where(t.c.key_id == str(e.originator_id))
            .values(deleted_at=naive_utc(e.timestamp))
        )


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
