"""Identity read models: tenants and users."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from domain.identity import Tenant, User
from domain.money import money_json
from domain.personal import erased_marker
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.schema import MONEY, Id, Timestamp, metadata
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("tenant_id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("commission_bps", sa.Integer, nullable=False),
    sa.Column("escrow_hold_days", sa.Integer, nullable=False),
    sa.Column("product_moderation", sa.String(16), nullable=False),
    sa.Column("hold_timeout_s", sa.Integer, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False, unique=True),
    sa.Column("min_payout_amount", sa.BigInteger, nullable=False, server_default="0", info=MONEY),
    sa.Column("payout_interval", sa.String(8), nullable=True),
    sa.Column("payout_day", sa.Integer, nullable=True),
    sa.Column("payouts_ran_period", sa.String(10), nullable=True),
    sa.Column("dispute_fee_payer", sa.String(8), nullable=False, server_default="seller"),
    sa.Column("return_window_days", sa.Integer, nullable=False, server_default="30"),
    # Whether commission is taken on shipping too (API.md: free of commission unless set).
    sa.Column("commission_on_shipping", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("seller_signup", sa.Boolean, nullable=False, server_default=sa.true()),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", Id, primary_key=True),
    sa.Column("tenant_id", Id, nullable=False),
    # Compared exactly (emails are kept in NFC, lower case): MySQL's default collation would
    # take "cafe" and "café" for one email.
    sa.Column(
        "email",
        sa.String(254).with_variant(mysql.VARCHAR(254, collation="utf8mb4_bin"), "mysql"),
        nullable=False,
    ),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_position", sa.BigInteger, nullable=False),
    # Set when the person was erased: their email is gone and their tokens open nothing.
    sa.Column("erased_at", Timestamp, nullable=True),
    # Set when the person showed they read mail sent to the email (User.EmailVerified).
    sa.Column("email_verified_at", Timestamp, nullable=True),
    sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
    sa.Index("ix_users_tenant_position", "tenant_id", "created_position"),
)


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


TENANT_FIELDS = (
    "tenant_id",
    "name",
    "currency",
    "commission_bps",
    "escrow_hold_days",
    "product_moderation",
    "hold_timeout_s",
    "dispute_fee_payer",
    "return_window_days",
    "seller_signup",
    "commission_on_shipping",
    "created_at",
)
USER_FIELDS = ("user_id", "tenant_id", "email", "roles", "created_at")


def _only(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    picked = {f: row[f] for f in fields}
    if "min_payout_amount" in row and "currency" in row:
        picked["min_payout"] = money_json(row["min_payout_amount"], row["currency"])
    if "payout_interval" in row:
        picked["payout_schedule"] = (
            {
                "interval": row["payout_interval"],
                "day": row["payout_day"],
                "last_period": row["payouts_ran_period"],
            }
            if row["payout_interval"]
            else None
        )
    if picked.get("created_at") is not None:
        # Stored as naive UTC (MySQL DATETIME has no zone); answered with the zone stated.
        picked["created_at"] = zoned(picked["created_at"])
    return picked


class IdentityQueries:
    """Reads tenants and users. Every method takes the caller's TenantScope."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def tenant(self, scope: TenantScope, tenant_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, tenants, tenants.c.tenant_id == tenant_id)
        return _only(row, TENANT_FIELDS) if row else None

    def tenants(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        page = self.store.page(scope, tenants, limit=limit, cursor=cursor)
        return Page([_only(r, TENANT_FIELDS) for r in page.items], page.next_cursor)

    def payout_schedules(self, scope: TenantScope) -> list[dict[str, Any]]:
        """The tenants that have a payout schedule: their id, interval, day and the last period
        paid on schedule (None before the first)."""
        t = tenants
        query = (
            scope.select(t, t.c.payout_interval.is_not(None))
            .with_only_columns(
                t.c.tenant_id, t.c.payout_interval, t.c.payout_day, t.c.payouts_ran_period
            )
            .order_by(t.c.tenant_id)
        )
        with self.store.read() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def user(self, scope: TenantScope, user_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, users, users.c.user_id == user_id)
        return _only(row, USER_FIELDS) if row else None

    def users(self, scope: TenantScope, *, limit: int, cursor: str | None) -> Page:
        page = self.store.page(scope, users, limit=limit, cursor=cursor)
        return Page([_only(r, USER_FIELDS) for r in page.items], page.next_cursor)
