"""The identity projector: tenants as they register and set their policies, users as they
register, verify their email and are erased."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.identity import Tenant, User
from domain.personal import erased_marker
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class IdentityProjector(Projector):
    name = "identity"
    writes = ("tenants", "users")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the identity tables."""

    @apply.register
    def _tenant_registered(self, e: Tenant.Registered, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.tenants.insert().values(
                tenant_id=str(e.tenant_id),
                name=e.name,
                currency=e.currency,
                commission_bps=e.commission_bps,
                escrow_hold_days=e.escrow_hold_days,
                product_moderation=e.product_moderation,
                hold_timeout_s=e.hold_timeout_s,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _minimum_payout(
        self, e: Tenant.MinimumPayoutSet, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(min_payout_amount=e.amount_minor)
        )

    @apply.register
    def _dispute_policy(
        self, e: Tenant.DisputePolicySet, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(dispute_fee_payer=e.fee_payer)
        )

    @apply.register
    def _return_window(self, e: Tenant.ReturnWindowSet, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(return_window_days=e.days)
        )

    @apply.register
    def _seller_signup(self, e: Tenant.SellerSignUpSet, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(seller_signup=e.allowed)
        )

    @apply.register
    def _shipping_commission(
        self, e: Tenant.ShippingCommissionSet, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(commission_on_shipping=e.taken)
        )

    @apply.register
    def _tax(self, e: Tenant.TaxSet, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(tax={"prices_include_tax": e.prices_include_tax, "rates": list(e.rates)})
        )

    @apply.register
    def _payout_schedule(
        self, e: Tenant.PayoutScheduleSet, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(payout_interval=e.interval, payout_day=e.day)
        )

    @apply.register
    def _payouts_ran(
        self, e: Tenant.ScheduledPayoutsRan, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.tenants.update()
            .where(self.tables.tenants.c.tenant_id == str(e.originator_id))
            .values(payouts_ran_period=e.period)
        )

    @apply.register
    def _user_registered(self, e: User.Registered, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.users.insert().values(
                user_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                email=e.email,
                roles=list(e.roles),
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _email_verified(self, e: User.EmailVerified, conn: Connection, r: RecordedEvent) -> None:
        users = self.tables.users
        conn.execute(
            users.update()
            .where(users.c.user_id == str(e.originator_id))
            .values(email_verified_at=naive_utc(e.timestamp))
        )

    @apply.register
    def _user_erased(self, e: User.Erased, conn: Connection, r: RecordedEvent) -> None:
        users = self.tables.users
        conn.execute(
            users.update()
            .where(users.c.user_id == str(e.originator_id))
            .values(
                email=erased_marker(e.originator_id),
                roles=[],
                erased_at=naive_utc(e.timestamp),
            )
        )
