"""The catalog projector: products with their variants, stock and rating folded in, and their
seller's status kept current from the sellers model (projections/catalog/sellers.py)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.inventory import Stock
from domain.reviews import Review
from domain.sellers import Seller
from eventstore.mapper import RecordedEvent
from projections.catalog import shared_stock, variants
from projections.images import reordered, with_image, without_image
from projections.projector import Projector
from projections.store import naive_utc

# A product row's revision columns when no revision waits or was rejected.
NO_REVISION: dict[str, Any] = {
    "revision_status": None,
    "revision_title": None,
    "revision_description": None,
    "revision_category": None,
    "revision_reason": None,
}


class CatalogProjector(Projector):
    """Products, with on-hand, held and sold stock and their seller's status kept current."""

    name = "catalog"
    # A listing reads its seller's status from the sellers model, so that model must be at least
    # as far along: otherwise a product listed just after its seller's approval read "pending".
    upstream = ("sellers",)
    writes = (
        "products",
        "product_variants",
        "stock_levels",
        "organisation_stocks",
        "stock_shares",
        "stock_alerts",
        "reviews",
        "seller_ratings",
    )

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the catalog tables."""

    @apply.register
    def _listed(self, e: Product.Listed, conn: Connection, r: RecordedEvent) -> None:
        seller_status = conn.execute(
            sa.select(self.tables.sellers.c.status).where(
                self.tables.sellers.c.seller_id == str(e.seller_id)
            )
        ).scalar()
        conn.execute(
            self.tables.products.insert().values(
                product_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                seller_id=str(e.seller_id),
                sku=e.sku,
                title=e.title,
                description=e.description,
                category=e.category,
                price_amount=e.price_minor,
                currency=e.currency,
                attributes=dict(e.attributes),
                status=e.status,
                seller_status=seller_status or "approved",
                commission_bps=None,
                on_hand=0,
                held=0,
                sold=0,
                rating_count=0,
                rating_sum=0,
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
                updated_position=r.position,
                base_price_amount=e.price_minor,
                available=0,
            )
        )
        variants.listed(conn, self.tables, e, r)

    @apply.register
    def _approved(self, e: Product.Approved, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, status="active")

    @apply.register
    def _rejected(self, e: Product.Rejected, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, status="rejected")

    @apply.register
    def _withdrawn(self, e: Product.Withdrawn, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, status="withdrawn")

    @apply.register
    def _stock_shared(self, e: Product.StockShared, conn: Connection, r: RecordedEvent) -> None:
        shared_stock.shared(conn, self.tables, e, r)

    @apply.register
    def _edited(self, e: Product.Edited, conn: Connection, r: RecordedEvent) -> None:
        self._update(
            conn,
            e,
            r,
            title=e.title,
            description=e.description,
            category=e.category,
            base_price_amount=e.price_minor,
            currency=e.currency,
            status=e.status,
        )
        variants.repriced(conn, self.tables, e, r)
        variants.refresh(conn, self.tables, e, r)

    @apply.register
    def _options_set(self, e: Product.OptionsSet, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, options=[dict(o) for o in e.options])

    @apply.register
    def _variant_added(self, e: Product.VariantAdded, conn: Connection, r: RecordedEvent) -> None:
        variants.added(conn, self.tables, e, r)

    @apply.register
    def _variant_edited(self, e: Product.VariantEdited, conn: Connection, r: RecordedEvent) -> None:
        variants.edited(conn, self.tables, e, r)

    @apply.register
    def _variant_retired(
        self, e: Product.VariantRetired, conn: Connection, r: RecordedEvent
    ) -> None:
        variants.retired(conn, self.tables, e, r)

    @apply.register
    def _revision_proposed(
        self, e: Product.RevisionProposed, conn: Connection, r: RecordedEvent
    ) -> None:
        """Held beside the approved version, which the row's own columns keep showing."""
        self._update(
            conn,
            e,
            r,
            revision_status="pending_approval",
            revision_title=e.title,
            revision_description=e.description,
            revision_category=e.category,
            revision_reason=None,
        )

    @apply.register
    def _revision_approved(
        self, e: Product.RevisionApproved, conn: Connection, r: RecordedEvent
    ) -> None:
        self._update(
            conn,
            e,
            r,
            title=e.title,
            description=e.description,
            category=e.category,
            **NO_REVISION,
        )

    @apply.register
    def _revision_rejected(
        self, e: Product.RevisionRejected, conn: Connection, r: RecordedEvent
    ) -> None:
        """Kept for its seller to read why, until the next edit."""
        self._update(conn, e, r, revision_status="rejected", revision_reason=e.reason)

    @apply.register
    def _revision_withdrawn(
        self, e: Product.RevisionWithdrawn, conn: Connection, r: RecordedEvent
    ) -> None:
        self._update(conn, e, r, **NO_REVISION)

    @apply.register
    def _commission(self, e: Product.CommissionSet, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, commission_bps=e.commission_bps)

    @apply.register
    def _featured(self, e: Product.Featured, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, featured_until=naive_utc(e.until))

    @apply.register
    def _unfeatured(self, e: Product.Unfeatured, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, featured_until=None)

    @apply.register
    def _image_added(self, e: Product.ImageAdded, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, r, images=with_image(self._images(conn, e.originator_id), e))

    @apply.register
    def _image_removed(self, e: Product.ImageRemoved, conn: Connection, r: RecordedEvent) -> None:
        kept = without_image(self._images(conn, e.originator_id), e.image_id)
        self._update(conn, e, r, images=kept)

    @apply.register
    def _images_reordered(
        self, e: Product.ImagesReordered, conn: Connection, r: RecordedEvent
    ) -> None:
        ordered = reordered(self._images(conn, e.originator_id), e.image_ids)
        self._update(conn, e, r, images=ordered)

    def _images(self, conn: Connection, product_id: UUID) -> list[dict[str, Any]]:
        products = self.tables.products
        images = conn.execute(
            sa.select(products.c.images).where(products.c.product_id == str(product_id))
        ).scalar()
        return list(images or [])

    @apply.register
    def _alert_raised(self, e: Stock.AlertRaised, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.stock_alerts.insert().values(
                alert_id=str(r.event_id),
                tenant_id=str(e.tenant_id),
                seller_id=str(e.seller_id),
                product_id=str(e.product_id),
                warehouse=e.warehouse,
                threshold=e.threshold,
                available=e.available,
                raised_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register(Stock.OnHandSet)
    @apply.register(Stock.Restocked)  # named too: a projector reads only the events it names
    def _on_hand(self, e: Stock.OnHandSet, conn: Connection, r: RecordedEvent) -> None:
        levels = self.tables.stock_levels
        key = {"variant_id": str(e.variant_id), "warehouse": e.warehouse}
        updated = conn.execute(
            levels.update()
            .where(levels.c.variant_id == key["variant_id"], levels.c.warehouse == e.warehouse)
            .values(on_hand=e.on_hand)
        )
        if updated.rowcount == 0:
            conn.execute(
                levels.insert().values(
                    **key,
                    product_id=str(e.product_id),
                    tenant_id=str(e.tenant_id),
                    on_hand=e.on_hand,
                )
            )
        if shared_stock.is_shared(e):
            shared_stock.counted(conn, self.tables, e, r)
            return
        variants.counted(conn, self.tables, key["variant_id"])
        total = (
            sa.select(sa.func.coalesce(sa.func.sum(levels.c.on_hand), 0))
            .where(levels.c.product_id == str(e.product_id))
            .scalar_subquery()
        )
        variants.refresh(conn, self.tables, e, r, on_hand=total)

    @apply.register
    def _hold_taken(self, e: Stock.HoldTaken, conn: Connection, r: RecordedEvent) -> None:
        self._stock(conn, e, r, held=e.quantity)

    @apply.register
    def _hold_sold(self, e: Stock.HoldSold, conn: Connection, r: RecordedEvent) -> None:
        self._stock(conn, e, r, held=-e.quantity, sold=e.quantity)

    @apply.register
    def _hold_released(self, e: Stock.HoldReleased, conn: Connection, r: RecordedEvent) -> None:
        self._stock(conn, e, r, held=-e.quantity)

    @apply.register
    def _sale_reversed(self, e: Stock.SaleReversed, conn: Connection, r: RecordedEvent) -> None:
        self._stock(conn, e, r, sold=-e.quantity)

    @apply.register
    def _reviewed(self, e: Review.Written, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.reviews.insert().values(
                review_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                product_id=str(e.product_id),
                buyer_id=str(e.buyer_id),
                order_id=str(e.order_id),
                rating=e.rating,
                body=e.body,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
                variants=variants.bought(conn, self.tables, e.variant_ids),
            )
        )
        self._rate(conn, e, r, +1)

    @apply.register
    def _review_hidden(self, e: Review.Hidden, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.reviews
        conn.execute(
            t.update()
            .where(t.c.review_id == str(e.originator_id))
            .values(hidden=True, hidden_reason=e.reason)
        )
        self._rate(conn, e, r, -1)

    @apply.register
    def _review_restored(self, e: Review.Restored, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.reviews
        conn.execute(
            t.update()
            .where(t.c.review_id == str(e.originator_id))
            .values(hidden=False, hidden_reason=None)
        )
        self._rate(conn, e, r, +1)

    @apply.register
    def _review_replied(self, e: Review.Replied, conn: Connection, r: RecordedEvent) -> None:
        t = self.tables.reviews
        conn.execute(
            t.update()
            .where(t.c.review_id == str(e.originator_id))
            .values(reply=e.body, replied_at=naive_utc(e.timestamp))
        )

    def _rate(self, conn: Connection, e: Any, r: RecordedEvent, delta: int) -> None:
        """Counts a review's rating in (+1) or out (-1) of its product's and its seller's."""
        products = self.tables.products
        conn.execute(
            products.update()
            .where(products.c.product_id == str(e.product_id))
            .values(
                rating_count=products.c.rating_count + delta,
                rating_sum=products.c.rating_sum + delta * e.rating,
                updated_position=r.position,
            )
        )
        seller_id = conn.execute(
            sa.select(products.c.seller_id).where(products.c.product_id == str(e.product_id))
        ).scalar()
        ratings = self.tables.seller_ratings
        star = ratings.c[f"stars_{e.rating}"]
        changed = conn.execute(
            ratings.update()
            .where(ratings.c.seller_id == seller_id)
            .values(
                {
                    ratings.c.rating_count: ratings.c.rating_count + delta,
                    ratings.c.rating_sum: ratings.c.rating_sum + delta * e.rating,
                    star: star + delta,
                }
            )
        )
        if changed.rowcount == 0:
            stars = {f"stars_{n}": int(n == e.rating) * delta for n in range(1, 6)}
            conn.execute(
                ratings.insert().values(
                    seller_id=seller_id,
                    tenant_id=str(e.tenant_id),
                    rating_count=delta,
                    rating_sum=delta * e.rating,
                    **stars,
                    created_position=r.position,
                )
            )

    @apply.register
    def _seller_approved(self, e: Seller.Approved, conn: Connection, r: RecordedEvent) -> None:
        self._seller(conn, e.originator_id, r, "approved")

    @apply.register
    def _seller_reinstated(self, e: Seller.Reinstated, conn: Connection, r: RecordedEvent) -> None:
        self._seller(conn, e.originator_id, r, "approved")

    @apply.register
    def _seller_suspended(self, e: Seller.Suspended, conn: Connection, r: RecordedEvent) -> None:
        self._seller(conn, e.originator_id, r, "suspended")

    def _update(self, conn: Connection, e: Any, r: RecordedEvent, **values: Any) -> None:
        conn.execute(
            self.tables.products.update()
            .where(self.tables.products.c.product_id == str(e.originator_id))
            .values(updated_at=naive_utc(e.timestamp), updated_position=r.position, **values)
        )

    def _stock(
        self, conn: Connection, e: Any, r: RecordedEvent, *, held: int = 0, sold: int = 0
    ) -> None:
        """Units of a variant held, sold or let go: on its row and, summed, its product's (of
        an organisation's one stock: on every listing that sells from it)."""
        if shared_stock.is_shared(e):
            shared_stock.moved(conn, self.tables, e, r, held=held, sold=sold)
        else:
            variants.moved(conn, self.tables, e, r, held=held, sold=sold)

    def _seller(self, conn: Connection, seller_id: UUID, r: RecordedEvent, status: str) -> None:
        conn.execute(
            self.tables.products.update()
            .where(self.tables.products.c.seller_id == str(seller_id))
            .values(seller_status=status, updated_position=r.position)
        )
