"""The projectors of sellers and the catalog: products with their stock and rating folded in."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.catalog import Product
from domain.identity import User
from domain.inventory import Stock
from domain.personal import erased_marker
from domain.plans import Plan
from domain.reviews import Review
from domain.sellers import Seller
from domain.shipping import ShippingProfile
from eventstore.mapper import RecordedEvent
from projections.catalog import variants
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


class SellersProjector(Projector):
    """Sellers, the tenant's plans and what each seller's plan charged and credited."""

    name = "sellers"
    writes = ("sellers", "plans", "plan_charges", "shipping_rates")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the sellers table."""

    @apply.register
    def _rate_added(self, e: ShippingProfile.RateAdded, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.shipping_rates.insert().values(
                rate_id=str(e.rate_id),
                tenant_id=str(e.tenant_id),
                seller_id=str(e.seller_id),
                name=e.name,
                countries=list(e.countries),
                price_amount=e.price_minor,
                currency=e.currency,
                free_over_amount=e.free_over_minor,
                min_days=e.min_days,
                max_days=e.max_days,
                created_position=r.position,
            )
        )

    @apply.register
    def _rate_removed(
        self, e: ShippingProfile.RateRemoved, conn: Connection, r: RecordedEvent
    ) -> None:
        rates = self.tables.shipping_rates
        conn.execute(rates.delete().where(rates.c.rate_id == str(e.rate_id)))

    @apply.register
    def _registered(self, e: Seller.Registered, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.sellers.insert().values(
                seller_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                user_id=str(e.user_id),
                display_name=e.display_name,
                country=e.country,
                status="pending",
                commission_bps=None,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _approved(self, e: Seller.Approved, conn: Connection, r: RecordedEvent) -> None:
        self._status(conn, e.originator_id, "approved")

    @apply.register
    def _reinstated(self, e: Seller.Reinstated, conn: Connection, r: RecordedEvent) -> None:
        self._status(conn, e.originator_id, "approved")

    @apply.register
    def _rejected(self, e: Seller.Rejected, conn: Connection, r: RecordedEvent) -> None:
        self._status(conn, e.originator_id, "rejected")

    @apply.register
    def _suspended(self, e: Seller.Suspended, conn: Connection, r: RecordedEvent) -> None:
        self._status(conn, e.originator_id, "suspended")

    @apply.register
    def _owner_erased(self, e: User.Erased, conn: Connection, r: RecordedEvent) -> None:
        """A shop's name may be its owner's own: it goes with them."""
        sellers = self.tables.sellers
        conn.execute(
            sellers.update()
            .where(sellers.c.user_id == str(e.originator_id))
            .values(display_name=erased_marker(e.originator_id))
        )

    @apply.register
    def _commission(self, e: Seller.CommissionSet, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.sellers.update()
            .where(self.tables.sellers.c.seller_id == str(e.originator_id))
            .values(commission_bps=e.commission_bps)
        )

    @apply.register
    def _payout_account(
        self, e: Seller.PayoutAccountSet, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.sellers.update()
            .where(self.tables.sellers.c.seller_id == str(e.originator_id))
            .values(payout_account=e.account_id)
        )

    @apply.register
    def _plan_defined(self, e: Plan.Defined, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.plans.insert().values(
                plan_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                name=e.name,
                monthly_fee=e.monthly_fee_minor,
                currency=e.currency,
                product_limit=e.product_limit,
                commission_discount_bps=e.commission_discount_bps,
                subscribers=0,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _plan_started(self, e: Seller.PlanStarted, conn: Connection, r: RecordedEvent) -> None:
        before = self._plan_of(conn, e.originator_id)
        if before is not None:
            self._subscribers(conn, before[0], -1)
        self._subscribers(conn, str(e.plan_id), +1)
        kind = "changed" if before is not None else "subscribed"
        plan = (str(e.plan_id), e.name)
        self._plan_line(conn, e, r, plan, kind, e.period, e.charged_minor, e.credited_minor)
        self._seller_plan(conn, e.originator_id, str(e.plan_id), e.name, e.started_at, e.period)

    @apply.register
    def _plan_renewed(self, e: Seller.PlanRenewed, conn: Connection, r: RecordedEvent) -> None:
        plan = self._plan_of(conn, e.originator_id)
        if plan is not None:
            self._plan_line(conn, e, r, plan, "renewed", e.period, e.charged_minor, 0)
        sellers = self.tables.sellers
        conn.execute(
            sellers.update()
            .where(sellers.c.seller_id == str(e.originator_id))
            .values(plan_period=e.period)
        )

    @apply.register
    def _plan_ended(self, e: Seller.PlanEnded, conn: Connection, r: RecordedEvent) -> None:
        plan = self._plan_of(conn, e.originator_id)
        if plan is not None:
            period = f"{e.ended_at.year:04d}-{e.ended_at.month:02d}"
            self._plan_line(conn, e, r, plan, "cancelled", period, 0, e.credited_minor)
            self._subscribers(conn, plan[0], -1)
        self._seller_plan(conn, e.originator_id, None, None, None, None)

    def _plan_of(self, conn: Connection, seller_id: UUID) -> tuple[str, str] | None:
        s = self.tables.sellers
        row = conn.execute(
            sa.select(s.c.plan_id, s.c.plan_name).where(s.c.seller_id == str(seller_id))
        ).first()
        return None if row is None or row.plan_id is None else (row.plan_id, row.plan_name)

    def _plan_line(
        self,
        conn: Connection,
        e: Any,
        r: RecordedEvent,
        plan: tuple[str, str],
        kind: str,
        period: str,
        charged: int,
        credited: int,
    ) -> None:
        """One line of the earnings statement per plan event (`plan` is the one charged, or
        the one that ended)."""
        plans = self.tables.plans
        currency = conn.execute(
            sa.select(plans.c.currency).where(plans.c.plan_id == plan[0])
        ).scalar()
        conn.execute(
            self.tables.plan_charges.insert().values(
                charge_id=str(r.event_id),
                tenant_id=str(e.tenant_id),
                seller_id=str(e.originator_id),
                plan_id=plan[0],
                plan_name=plan[1],
                period=period,
                kind=kind,
                charged=charged,
                credited=credited,
                currency=currency,
                charged_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    def _subscribers(self, conn: Connection, plan_id: str, change: int) -> None:
        plans = self.tables.plans
        conn.execute(
            plans.update()
            .where(plans.c.plan_id == plan_id)
            .values(subscribers=plans.c.subscribers + change)
        )

    def _seller_plan(
        self,
        conn: Connection,
        seller_id: UUID,
        plan_id: str | None,
        name: str | None,
        since: datetime | None,
        period: str | None,
    ) -> None:
        conn.execute(
            self.tables.sellers.update()
            .where(self.tables.sellers.c.seller_id == str(seller_id))
            .values(
                plan_id=plan_id,
                plan_name=name,
                plan_since=naive_utc(since) if since else None,
                plan_period=period,
            )
        )

    def _status(self, conn: Connection, seller_id: UUID, status: str) -> None:
        conn.execute(
            self.tables.sellers.update()
            .where(self.tables.sellers.c.seller_id == str(seller_id))
            .values(status=status)
        )


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
        image = {
            "image_id": str(e.image_id),
            "content_type": e.content_type,
            "width": e.width,
            "height": e.height,
            "keys": dict(e.keys),
        }
        self._update(conn, e, r, images=[*self._images(conn, e.originator_id), image])

    @apply.register
    def _image_removed(self, e: Product.ImageRemoved, conn: Connection, r: RecordedEvent) -> None:
        kept = [i for i in self._images(conn, e.originator_id) if i["image_id"] != str(e.image_id)]
        self._update(conn, e, r, images=kept)

    @apply.register
    def _images_reordered(
        self, e: Product.ImagesReordered, conn: Connection, r: RecordedEvent
    ) -> None:
        by_id = {i["image_id"]: i for i in self._images(conn, e.originator_id)}
        self._update(conn, e, r, images=[by_id[str(i)] for i in e.image_ids])

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
        """Units of a variant held, sold or let go: on its row and, summed, its product's."""
        variants.moved(conn, self.tables, e, r, held=held, sold=sold)

    def _seller(self, conn: Connection, seller_id: UUID, r: RecordedEvent, status: str) -> None:
        conn.execute(
            self.tables.products.update()
            .where(self.tables.products.c.seller_id == str(seller_id))
            .values(seller_status=status, updated_position=r.position)
        )
