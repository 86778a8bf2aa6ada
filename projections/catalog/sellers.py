"""The sellers projector: sellers with their status, commission, payout account and plan, the
plans a marketplace defines and what sellers were charged for them, and sellers' shipping rates.
The catalog projector reads its model (a listing takes its seller's status)."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.personal import erased_marker
from domain.plans import Plan
from domain.sellers import Seller
from domain.shipping import ShippingProfile
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


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
