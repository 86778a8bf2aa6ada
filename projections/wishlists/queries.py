"""Reads wishlists within a tenant scope: a buyer's, with the products buyers can see now, and a
product's wishers."""

from __future__ import annotations

from domain.money import money_json
from projections.catalog.tables import products
from projections.scope import TenantScope
from projections.store import Page, ReadStore, decode_cursor, encode_cursor, zoned
from projections.wishlists.tables import wishlist_items


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
