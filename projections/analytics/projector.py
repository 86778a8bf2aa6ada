"""The analytics projector: each order event added into the facts the dashboards read
(projections/analytics/queries.py), a row per seller, product, variant, buyer or marketplace and
day, with running totals through each month.

It is a projector of its own, with its own position, beside the orders projector whose read
model it reads (`upstream`): it never moves past it, so a seller order it counts is always
there. It reads of that model only what does not change once written: a seller order's amounts
and lines, an order's currency and guest email (which goes only when the account the order
joined is erased; the account's verification is unreadable then, in every rebuild too). What
it counts that the orders model overwrites later it keeps itself, per seller order, in
`analytics_seller_orders`, so that what it counts does not depend on how far the orders
projector has gone past it (in a batch of the projection group, after a quarantine, in a
rebuild of the analytics alone):

- who paid: the buyer the seller order was placed for, or the account that verified a guest's
  email before the payment (the orders model goes on to join later verifications too);
- the share of the charge its latest dispute holds, counted with refunds if the dispute is lost
  (the orders model holds the latest dispute's only, and a second dispute may follow the first).

A deployment upgraded from when the orders projector wrote these facts starts this projector
where the orders projector stood (migrations/versions/0038_analytics_projector.py)."""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.order_lines import OrderLine
from domain.orders import Order
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from eventstore.mapper import RecordedEvent
from projections.analytics.facts import bump, carry, day_of, month_of
from projections.orders.projector import seller_order_of
from projections.projector import Projector
from projections.tables import Tables


class AnalyticsProjector(Projector):
    name = "analytics"
    # A seller order's amounts and lines, and an order's currency and guest email, are read
    # from the orders model: written when the order is placed, and never changed after.
    upstream = ("orders",)
    writes = (
        "sales_facts",
        "seller_daily",
        "seller_running",
        "product_daily",
        "variant_daily",
        "product_running",
        "buyer_days",
        "buyer_day_counts",
        "marketplace_daily",
        "analytics_seller_orders",
    )

    def __init__(self, tables: Tables | None = None) -> None:
        super().__init__(tables)
        self._sql = _Statements(self.tables)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events are not counted."""

    @apply.register
    def _placed(self, e: SellerOrder.Placed, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self._sql.keep,
            {
                "seller_order_id": str(e.originator_id),
                "tenant_id": str(e.tenant_id),
                "order_id": str(e.order_id),
                "seller_id": str(e.seller_id),
                "buyer_id": str(e.buyer_id),
                "currency": e.currency,
            },
        )
        self._seller_fact(conn, e.tenant_id, str(e.seller_id), day_of(e), e.currency, placed=1)

    @apply.register
    def _email_verified(self, e: User.EmailVerified, conn: Connection, r: RecordedEvent) -> None:
        """A guest's orders placed with this email are the account's from now on: a payment
        of one of them that comes later counts the account as its buyer, as the orders model
        did when it wrote these facts. (Only the seller orders placed before this event have a
        row here yet, whatever orders the orders model holds by now.)"""
        orders, ours = self.tables.orders, self.tables.analytics_seller_orders
        guests = sa.select(orders.c.order_id).where(
            orders.c.tenant_id == str(e.tenant_id), orders.c.guest_email == e.email
        )
        ids = [row.order_id for row in conn.execute(guests)]
        if not ids:
            return
        buyer = str(e.originator_id)
        conn.execute(
            ours.update()
            .where(ours.c.order_id.in_(ids), ours.c.buyer_id != buyer)
            .values(buyer_id=buyer)
        )

    @apply.register
    def _paid(self, e: SellerOrder.Paid, conn: Connection, r: RecordedEvent) -> None:
        ours = self._ours(conn, e)
        sold = conn.execute(self._sql.sold, {"a_seller_order": ours.seller_order_id}).one()
        self._fact(conn, e, r, ours, gmv=sold.subtotal_amount, commission=sold.commission_amount)
        day, units, products = day_of(e), 0, []
        for line in sold.lines:
            units += int(line["quantity"])
            product = {"product_id": str(line["product_id"])}
            values = {"units": int(line["quantity"]), "gmv": int(line["line_total_minor"])}
            key = product | {"day": day, "currency": ours.currency}
            bump(
                conn,
                self.tables.product_daily,
                e.tenant_id,
                key,
                seller_id=ours.seller_id,
                title=str(line["title"])[:200],
                **values,
            )
            products.append((product | {"seller_id": ours.seller_id}, values))
            line_of = OrderLine.from_record(line)
            bump(
                conn,
                self.tables.variant_daily,
                e.tenant_id,
                {"variant_id": str(line_of.variant_id), "day": day, "currency": ours.currency},
                product_id=str(line_of.product_id),
                sku=line_of.sku[:64],
                **values,
            )
        carry(conn, self.tables.product_running, e.tenant_id, ours.currency, day, products)
        self._seller_fact(
            conn, e.tenant_id, ours.seller_id, day, ours.currency, orders=1, units=units
        )
        self._buyer_active(conn, e.tenant_id, ours.buyer_id, day)

    @apply.register
    def _order_paid(self, e: Order.Paid, conn: Connection, r: RecordedEvent) -> None:
        order = {"a_order": str(e.originator_id)}
        currency = conn.execute(self._sql.currency, order).scalar_one()
        key = {"day": day_of(e), "currency": currency}
        bump(conn, self.tables.marketplace_daily, e.tenant_id, key, orders=1)

    @apply.register
    def _refunded(
        self,
        e: SellerOrder.EscrowRefunded | Settlement.Returned,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        """A paid seller order was cancelled: what remained is refunded, and with it whatever
        commission had not been reversed yet."""
        facts = self.tables.sales_facts
        left = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(facts.c.commission), 0)).where(
                facts.c.seller_order_id == seller_order_of(e)
            )
        ).scalar()
        ours = self._ours(conn, e)
        self._fact(conn, e, r, ours, refunds=e.amount_minor, commission=-int(left or 0))

    @apply.register
    def _refunded_part(
        self, e: SellerOrder.Refunded | Settlement.Refunded, conn: Connection, r: RecordedEvent
    ) -> None:
        self._fact(
            conn,
            e,
            r,
            self._ours(conn, e),
            refunds=e.amount_minor,
            commission=-e.commission_reversed_minor,
        )

    @apply.register
    def _dispute_opened(
        self,
        e: SellerOrder.DisputeOpened | Settlement.DisputeOpened,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        ours = self.tables.analytics_seller_orders
        conn.execute(
            ours.update()
            .where(ours.c.seller_order_id == seller_order_of(e))
            .values(
                dispute_share_amount=e.amount_minor,
                dispute_share_commission_amount=e.commission_minor,
            )
        )

    @apply.register
    def _dispute_closed(
        self,
        e: SellerOrder.DisputeClosed | Settlement.DisputeClosed,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        """Lost, the share is gone as a refund's would be, and the dashboards count it so."""
        if e.outcome != "lost":
            return
        ours = self._ours(conn, e)
        self._fact(
            conn,
            e,
            r,
            ours,
            refunds=ours.dispute_share_amount,
            commission=-ours.dispute_share_commission_amount,
        )

    def _ours(self, conn: Connection, e: Any) -> Any:
        """What this projector keeps of the event's seller order."""
        return conn.execute(self._sql.ours, {"a_seller_order": seller_order_of(e)}).one()

    def _fact(
        self,
        conn: Connection,
        e: Any,
        r: RecordedEvent,
        ours: Any,
        *,
        gmv: int = 0,
        commission: int = 0,
        refunds: int = 0,
    ) -> None:
        """One money fact of a seller order: its row in sales_facts, added to its seller's and
        the marketplace's day."""
        day = day_of(e)
        conn.execute(
            self._sql.fact,
            {
                "created_position": r.position,
                "tenant_id": ours.tenant_id,
                "seller_id": ours.seller_id,
                "seller_order_id": ours.seller_order_id,
                "day": day,
                "currency": ours.currency,
                "gmv": gmv,
                "commission": commission,
                "refunds": refunds,
            },
        )
        money = {"gmv": gmv, "commission": commission, "refunds": refunds}
        self._seller_fact(conn, ours.tenant_id, ours.seller_id, day, ours.currency, **money)
        key = {"day": day, "currency": ours.currency}
        bump(conn, self.tables.marketplace_daily, ours.tenant_id, key, **money)

    def _seller_fact(
        self,
        conn: Connection,
        tenant_id: object,
        seller_id: str,
        day: date,
        currency: str,
        **values: int,
    ) -> None:
        """Adds to the seller's figures for the day and to its running totals."""
        key = {"seller_id": seller_id, "day": day, "currency": currency}
        bump(conn, self.tables.seller_daily, tenant_id, key, **values)
        seller = [({"seller_id": seller_id}, values)]
        carry(conn, self.tables.seller_running, tenant_id, currency, day, seller)

    def _buyer_active(self, conn: Connection, tenant_id: object, buyer_id: str, day: date) -> None:
        """Notes a day the buyer paid for an order, linked to its day before (and a later day
        noted first, should events arrive out of day order, linked to this one), and counts it
        by the month of its day before."""
        sql, theirs = self._sql, {"a_tenant": str(tenant_id), "a_buyer": buyer_id, "a_day": day}
        if conn.execute(sql.buyer_day, theirs).first():
            return
        before = conn.execute(sql.buyer_day_before, theirs).scalar()
        conn.execute(
            sql.buyer_day_new,
            {"tenant_id": str(tenant_id), "day": day, "buyer_id": buyer_id, "previous_day": before},
        )
        counts = self.tables.buyer_day_counts
        bump(conn, counts, tenant_id, {"day": day, "previous_month": month_of(before)}, buyers=1)
        after = conn.execute(sql.buyer_day_after, theirs).scalar()
        if after is not None:
            conn.execute(sql.buyer_day_relinked, theirs | {"a_after": after})
            moved = {"day": after, "previous_month": month_of(before)}
            bump(conn, counts, tenant_id, moved, buyers=-1)
            bump(conn, counts, tenant_id, moved | {"previous_month": month_of(day)}, buyers=1)


class _Statements:
    """The statements the projector runs for every seller order placed and every order and
    seller order paid, built once per projector (a rebuild's has its own, on its shadow tables)
    with their values bound: building and keying a statement anew for each event cost more
    than running it. Inserts take their rows as parameters."""

    def __init__(self, tables: Tables) -> None:
        ours, so, orders = tables.analytics_seller_orders, tables.seller_orders, tables.orders
        self.keep = ours.insert()
        self.ours = sa.select(ours).where(ours.c.seller_order_id == sa.bindparam("a_seller_order"))
        self.sold = sa.select(so.c.subtotal_amount, so.c.commission_amount, so.c.lines).where(
            so.c.seller_order_id == sa.bindparam("a_seller_order")
        )
        self.currency = sa.select(orders.c.currency).where(
            orders.c.order_id == sa.bindparam("a_order")
        )
        self.fact = tables.sales_facts.insert()
        # A buyer's day (a_tenant, a_buyer, a_day), the days before and after it, and the day
        # after (a_after) linked to it.
        b = tables.buyer_days
        day = sa.bindparam("a_day", type_=b.c.day.type)
        theirs = (
            b.c.tenant_id == sa.bindparam("a_tenant"),
            b.c.buyer_id == sa.bindparam("a_buyer"),
        )
        self.buyer_day = sa.select(sa.literal(1)).where(*theirs, b.c.day == day)
        self.buyer_day_before = sa.select(sa.func.max(b.c.day)).where(*theirs, b.c.day < day)
        self.buyer_day_new = b.insert()
        self.buyer_day_after = sa.select(sa.func.min(b.c.day)).where(*theirs, b.c.day > day)
        self.buyer_day_relinked = (
            b.update()
            .where(*theirs, b.c.day == sa.bindparam("a_after", type_=b.c.day.type))
            .values(previous_day=day)
        )
