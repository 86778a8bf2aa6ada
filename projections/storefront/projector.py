"""The storefront projector: publishable keys as they are created and deleted."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.storefront import PublishableKey
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


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
