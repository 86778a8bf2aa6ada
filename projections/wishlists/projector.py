"""The wishlists projector: what each buyer adds and removes, and nothing left of an erased one."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.identity import User
from domain.wishlists import Wishlist
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class WishlistsProjector(Projector):
    name = "wishlists"
    writes = ("wishlist_items",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch wishlists."""

    @apply.register
    def _added(self, e: Wishlist.ProductAdded, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.wishlist_items.insert().values(
                tenant_id=str(e.tenant_id),
                buyer_id=str(e.buyer_id),
                product_id=str(e.product_id),
                added_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _buyer_erased(self, e: User.Erased, conn: Connection, r: RecordedEvent) -> None:
        """An erased buyer wishes for nothing any more, and hears of no price drop."""
        t = self.tables.wishlist_items
        conn.execute(t.delete().where(t.c.buyer_id == str(e.originator_id)))

    @apply.register
    def _removed(self, e: Wishlist.ProductRemoved, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.wishlist_items
        conn.execute(
            t.delete().where(t.c.buyer_id == str(e.buyer_id), t.c.product_id == str(e.product_id))
        )
