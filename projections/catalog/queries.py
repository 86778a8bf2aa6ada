"""Queries over the seller and catalog read models, within the caller's tenant scope."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from projections.catalog.views import SELLER_FIELDS, product_view, zoned_fields
from projections.scope import TenantScope
from projections.store import Page, ReadStore, zoned
from projections.tables import products, reviews, sellers, stock_alerts


class CatalogQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def seller(self, scope: TenantScope, seller_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, sellers, sellers.c.seller_id == seller_id)
        return zoned_fields({f: row[f] for f in SELLER_FIELDS}, "created_at") if row else None

    def sellers(
        self,
        scope: TenantScope,
        *,
        status: str | None,
        only: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        where = [sellers.c.status == status] if status else []
        if only is not None:
            where.append(sellers.c.seller_id == only)
        page = self.store.page(scope, sellers, *where, limit=limit, cursor=cursor)
        return Page(
            [zoned_fields({f: r[f] for f in SELLER_FIELDS}, "created_at") for r in page.items],
            page.next_cursor,
        )

    def stock_alerts(
        self, scope: TenantScope, seller_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        """The alerts a seller's stock raised, oldest first."""
        a = stock_alerts
        page = self.store.page(scope, a, a.c.seller_id == seller_id, limit=limit, cursor=cursor)
        items = [
            {
                "id": r["alert_id"],
                "product_id": r["product_id"],
                "warehouse": r["warehouse"],
                "threshold": r["threshold"],
                "available": r["available"],
                "raised_at": zoned(r["raised_at"]),
            }
            for r in page.items
        ]
        return Page(items, page.next_cursor)

    def product(self, scope: TenantScope, product_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, products, products.c.product_id == product_id)
        return product_view(row) if row else None

    def reviews(
        self, scope: TenantScope, product_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        page = self.store.page(
            scope, reviews, reviews.c.product_id == product_id, limit=limit, cursor=cursor
        )
        items = [
            zoned_fields(
                {
                    "id": r["review_id"],
                    "product_id": r["product_id"],
                    "rating": r["rating"],
                    "body": r["body"],
                    "created_at": r["created_at"],
                },
                "created_at",
            )
            for r in page.items
        ]
        return Page(items, page.next_cursor)

    def products(
        self,
        scope: TenantScope,
        *,
        status: str | None,
        seller_id: str | None,
        visible_to_seller: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """Products in creation order. With visible_to_seller set (a non-admin caller), only what
        that caller may see: its own products, and what can be bought."""
        where: list[Any] = []
        if visible_to_seller is not None:
            where.append(
                sa.or_(
                    products.c.seller_id == visible_to_seller,
                    sa.and_(products.c.status == "active", products.c.seller_status == "approved"),
                )
            )
        if status:
            where.append(products.c.status == status)
        if seller_id:
            where.append(products.c.seller_id == seller_id)
        page = self.store.page(scope, products, *where, limit=limit, cursor=cursor)
        return Page([product_view(r) for r in page.items], page.next_cursor)
