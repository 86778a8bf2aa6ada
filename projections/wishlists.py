"""Wishlists: what each buyer keeps an eye on, and its queries. A product buyers cannot see
any more (not active, its seller not approved) drops out of the answer, and comes back if it
returns."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.money import money_json
from domain.wishlists import Wishlist
from eventstore.mapper import RecordedEvent
from projections.catalog.tables import products
from projections.projector import Projector
from projections.schema import Id, Timestamp, metadata
from projections.scope import TenantScope
from projections.store import Page, ReadStore, decode_cursor, encode_cursor, naive_utc, zoned

wishlist_items = sa.Table(
    "wishlist_items",
    metadata,
    sa.Column("buyer_id", Id, primary_key=True),
    sa.Column("product_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    sa.Column("added_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    sa.Index("ix_wishlist_items_buyer", "tenant_id", "buyer_id", "created_position"),
    sa.Index("ix_wishlist_items_product", "tenant_id", "product_id"),
)


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


class WishlistQueries:
    """Reads wishlists, within the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def wishlist(
        self, scope: TenantScope, buyer_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        """The buyer's wished products that buyers can see now, oldest wish first."""
        w, p = wishlist_items, products
        after = decode_cursor(cursor)
        stmt = (
            scope.select(w, w.c.buyer_id == buyer_id, w.c.created_position > after)
            .join(p, p.c.product_id == w.c.product_id)
            .add_columns(
                p.c.title,
                p.c.price_amount,
                p.c.currency,
                p.c.available,
                p.c.images,
            )
            .where(p.c.status == "active", p.c.seller_status == "approved")
            .order_by(w.c.created_position)
            .limit(limit + 1)
        )
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            {
                "product_id": r["product_id"],
                "title": r["title"],
                "price": money_json(r["price_amount"], r["currency"]),
                "available": r["available"],
                "images": r["images"] or [],
                "added_at": zoned(r["added_at"]),
            }
            for r in rows
        ]
        return Page(items, encode_cursor(rows[-1]["created_position"]) if more else None)

    def wishers(self, tenant_id: str, product_id: str) -> list[str]:
        """The buyers who wish for a product: whom a price drop concerns."""
        w = wishlist_items
        stmt = TenantScope.only(tenant_id).select(w, w.c.product_id == product_id)
        with self.store.read() as conn:
            return [row.buyer_id for row in conn.execute(stmt)]
