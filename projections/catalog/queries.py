"""Queries over the seller and catalog read models, within the caller's tenant scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from projections.catalog.tables import (
    plans,
    product_variants,
    products,
    reviews,
    seller_ratings,
    sellers,
    shipping_rates,
    stock_alerts,
)
from projections.catalog.views import (
    plan_view,
    product_view,
    rate_view,
    rating_view,
    seller_view,
    zoned_fields,
)
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned


class CatalogQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def seller(self, scope: TenantScope, seller_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, sellers, sellers.c.seller_id == seller_id)
        if row is None:
            return None
        return seller_view(row) | {"rating": self.seller_ratings(scope, [seller_id])[seller_id]}

    def plans(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        page = self.store.page(scope, plans, limit=limit, cursor=cursor)
        return Page([plan_view(r) for r in page.items], page.next_cursor)

    def plan(self, scope: TenantScope, plan_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, plans, plans.c.plan_id == plan_id)
        return None if row is None else plan_view(row)

    def plans_due(self, now: datetime, limit: int) -> list[str]:
        """Sellers, in any tenant, whose plan has a month begun by `now` not charged yet."""
        month = f"{now.year:04d}-{now.month:02d}"
        s = sellers
        query = (
            sa.select(s.c.seller_id)
            .where(s.c.plan_id.is_not(None), s.c.plan_period < month)
            .order_by(s.c.plan_period, s.c.seller_id)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [row.seller_id for row in conn.execute(query)]

    def products_counted(self, tenant_id: object, seller_id: object) -> int:
        """How many of the seller's products count against a plan's limit: all but rejected."""
        p = products
        with self.store.read() as conn:
            count = conn.execute(
                TenantScope.only(str(tenant_id))
                .select(p, p.c.seller_id == str(seller_id), p.c.status != "rejected")
                .with_only_columns(sa.func.count())
            ).scalar()
        return int(count or 0)

    def seller_ratings(self, scope: TenantScope, seller_ids: list[str]) -> dict[str, Any]:
        """Each seller's rating from its products' visible reviews (none yet: count 0)."""
        r = seller_ratings
        with self.store.read() as conn:
            rows = {
                row.seller_id: row
                for row in conn.execute(scope.select(r, r.c.seller_id.in_(seller_ids)))
            }
        return {seller_id: rating_view(rows.get(seller_id)) for seller_id in seller_ids}

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
        ratings = self.seller_ratings(scope, [r["seller_id"] for r in page.items])
        return Page(
            [seller_view(r) | {"rating": ratings[r["seller_id"]]} for r in page.items],
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

    def shipping_rates(
        self, scope: TenantScope, seller_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        """A seller's shipping rates, oldest first."""
        r = shipping_rates
        page = self.store.page(scope, r, r.c.seller_id == seller_id, limit=limit, cursor=cursor)
        return Page([rate_view(row) for row in page.items], page.next_cursor)

    def featured_due(self, now: datetime, limit: int) -> list[str]:
        """Products, of every tenant, whose feature has run out (the scheduler ends them)."""
        due = TenantScope.every_tenant().select(
            products, products.c.featured_until <= naive_utc(now)
        )
        with self.store.read() as conn:
            rows = conn.execute(due.order_by(products.c.featured_until).limit(limit))
            return [row.product_id for row in rows]

    def product(self, scope: TenantScope, product_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, products, products.c.product_id == product_id)
        if row is None:
            return None
        return product_view(row, self._variants(scope, [product_id])[product_id])

    def _variants(self, scope: TenantScope, product_ids: list[str]) -> dict[str, list[Any]]:
        """Each product's variants on sale, in the order they were added."""
        v = product_variants
        found: dict[str, list[Any]] = {p: [] for p in product_ids}
        if not product_ids:
            return found
        query = scope.select(
            v, v.c.product_id.in_(product_ids), v.c.retired == sa.false()
        ).order_by(v.c.created_position, v.c.variant_id)
        with self.store.read() as conn:
            for row in conn.execute(query):
                found[row.product_id].append(row)
        return found

    def reviews(
        self,
        scope: TenantScope,
        product_id: str,
        *,
        hidden: bool = False,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """A product's visible reviews (or, for moderators, its hidden ones), oldest first."""
        where = (reviews.c.product_id == product_id, reviews.c.hidden.is_(hidden))
        page = self.store.page(scope, reviews, *where, limit=limit, cursor=cursor)
        items = [
            zoned_fields(
                {
                    "id": r["review_id"],
                    "product_id": r["product_id"],
                    "rating": r["rating"],
                    "body": r["body"],
                    "variants": r["variants"] or [],
                    "created_at": r["created_at"],
                    "reply": (
                        {"body": r["reply"], "created_at": zoned(r["replied_at"])}
                        if r["reply"] is not None
                        else None
                    ),
                    **({"hidden_reason": r["hidden_reason"]} if hidden else {}),
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
        revision_status: str | None = None,
    ) -> Page:
        """Products in creation order. With visible_to_seller set (a non-admin caller), only what
        that caller may see: its own products, and what can be bought. With revision_status,
        only those whose revision is in it (`pending_approval`: the moderation queue of edits);
        a caller sees only its own products' revisions."""
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
        if revision_status:
            where.append(products.c.revision_status == revision_status)
            if visible_to_seller is not None:
                where.append(products.c.seller_id == visible_to_seller)
        page = self.store.page(scope, products, *where, limit=limit, cursor=cursor)
        variants = self._variants(scope, [r["product_id"] for r in page.items])
        return Page(
            [product_view(r, variants[r["product_id"]]) for r in page.items], page.next_cursor
        )
