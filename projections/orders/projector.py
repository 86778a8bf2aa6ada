"""The projectors of orders, seller orders and carts: each event of the log folded into its
rows. An order's status is derived from its seller orders' by the domain's `order_status`.
Beside them, the daily facts the analytics dashboards read (projections/orders/analytics.py)."""

from __future__ import annotations

from datetime import UTC, date
from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Connection

from domain.carts import Cart
from domain.identity import User
from domain.order_lines import OrderLine
from domain.orders import Order, order_status
from domain.personal import redacted
from domain.refunds import Refund
from domain.returns import Return
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from eventstore.mapper import RecordedEvent
from projections.runner import Projector
from projections.store import naive_utc
from projections.tables import FIRST_PURCHASE


def seller_order_of(e: Any) -> str:
    """The seller order an event concerns: a seller order's event is its own, a settlement's
    event names it."""
    return str(getattr(e, "seller_order_id", e.originator_id))


class OrdersProjector(Projector):
    name = "orders"
    # A guest's order joins the account that verified its email (the identity model says
    # which): that model must have seen every verification before the order it concerns.
    upstream = ("identity",)
    writes = (
        "orders",
        "seller_orders",
        "refunds",
        "returns",
        "sales_facts",
        "seller_daily",
        "seller_running",
        "product_daily",
        "variant_daily",
        "product_running",
        "buyer_days",
        "buyer_day_counts",
        "marketplace_daily",
    )

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the order tables."""

    @apply.register
    def _buyer_erased(self, e: User.Erased, conn: Connection, r: RecordedEvent) -> None:
        """The buyer's addresses go with them, as their events now read; amounts and ids stay."""
        orders = self.tables.orders
        theirs = sa.select(orders.c.order_id, orders.c.shipping_address).where(
            orders.c.tenant_id == str(e.tenant_id), orders.c.buyer_id == str(e.originator_id)
        )
        for order_id, address in conn.execute(theirs).all():
            conn.execute(
                orders.update()
                .where(orders.c.order_id == order_id)
                .values(
                    shipping_address=redacted(address, e.originator_id),
                    guest_email=None,  # a guest order it had joined keeps no email either
                )
            )

    @apply.register
    def _placed(self, e: Order.Placed, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.orders.insert().values(
                order_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                buyer_id=str(e.buyer_id),
                status="pending_payment",
                currency=e.currency,
                total_amount=e.total_minor,
                shipping_address=dict(e.shipping_address),
                expires_at=naive_utc(e.expires_at),
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
                guest_email=e.guest_email or None,
            )
        )
        if e.guest_email:
            self._join_verified(conn, e)

    def _join_verified(self, conn: Connection, e: Order.Placed) -> None:
        """A guest's order placed with an email an account of the tenant has verified already
        is that account's from the start (as one placed before the verification joins it)."""
        users = self.tables.users
        account = conn.execute(
            sa.select(users.c.user_id).where(
                users.c.tenant_id == str(e.tenant_id),
                users.c.email == e.guest_email,
                users.c.email_verified_at.is_not(None),
                users.c.erased_at.is_(None),
            )
        ).scalar()
        if account is not None:
            orders = self.tables.orders
            conn.execute(
                orders.update()
                .where(orders.c.order_id == str(e.originator_id))
                .values(buyer_id=account)
            )

    @apply.register
    def _email_verified(self, e: User.EmailVerified, conn: Connection, r: RecordedEvent) -> None:
        """A guest's orders placed with this email join the account that verified it: they are
        its buyer's from now on, in its order list and views."""
        orders, parts = self.tables.orders, self.tables.seller_orders
        guests = sa.and_(
            orders.c.tenant_id == str(e.tenant_id),
            orders.c.guest_email == e.email,
            orders.c.buyer_id != str(e.originator_id),
        )
        ids = [row.order_id for row in conn.execute(sa.select(orders.c.order_id).where(guests))]
        if not ids:
            return
        buyer = str(e.originator_id)
        conn.execute(orders.update().where(orders.c.order_id.in_(ids)).values(buyer_id=buyer))
        conn.execute(parts.update().where(parts.c.order_id.in_(ids)).values(buyer_id=buyer))

    @apply.register
    def _intent(self, e: Order.PaymentIntentAttached, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == str(e.originator_id))
            .values(
                payment_provider=e.provider,
                payment_intent_id=e.intent_id,
                updated_at=naive_utc(e.timestamp),
            )
        )

    @apply.register
    def _returned_payment(
        self, e: Order.PaymentReturned, conn: Connection, r: RecordedEvent
    ) -> None:
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == str(e.originator_id))
            .values(
                returned_amount=self.tables.orders.c.returned_amount + e.amount_minor,
                updated_at=naive_utc(e.timestamp),
            )
        )

    @apply.register
    def _flagged(self, e: Order.FlaggedForReview, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == str(e.originator_id))
            .values(needs_review=True, review_reason=e.reason[:500])
        )

    @apply.register
    def _so_placed(self, e: SellerOrder.Placed, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.seller_orders.insert().values(
                seller_order_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                order_id=str(e.order_id),
                buyer_id=str(e.buyer_id),
                seller_id=str(e.seller_id),
                status="pending_payment",
                escrow_status="none",
                currency=e.currency,
                subtotal_amount=e.subtotal_minor,
                commission_amount=e.commission_minor,
                seller_net_amount=e.seller_net_minor,
                lines=list(e.lines),
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
                shipping_amount=e.shipping_minor,
                shipping_rate=dict(e.shipping) if e.shipping else None,
            )
        )
        if e.shipping_minor:
            orders = self.tables.orders
            conn.execute(
                orders.update()
                .where(orders.c.order_id == str(e.order_id))
                .values(shipping_amount=orders.c.shipping_amount + e.shipping_minor)
            )
        self._seller_fact(conn, e.tenant_id, str(e.seller_id), day_of(e), e.currency, placed=1)

    @apply.register
    def _paid(self, e: SellerOrder.Paid, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "paid")
        row = self._row(conn, e)
        self._fact(conn, e, r, row, gmv=row.subtotal_amount, commission=row.commission_amount)
        day, units, sold = day_of(e), 0, []
        for line in row.lines:
            units += int(line["quantity"])
            product = {"product_id": str(line["product_id"])}
            values = {"units": int(line["quantity"]), "gmv": int(line["line_total_minor"])}
            key = product | {"day": day, "currency": row.currency}
            bump(
                conn,
                self.tables.product_daily,
                e.tenant_id,
                key,
                seller_id=row.seller_id,
                title=str(line["title"])[:200],
                **values,
            )
            sold.append((product | {"seller_id": row.seller_id}, values))
            line_of = OrderLine.from_record(line)
            bump(
                conn,
                self.tables.variant_daily,
                e.tenant_id,
                {"variant_id": str(line_of.variant_id), "day": day, "currency": row.currency},
                product_id=str(line_of.product_id),
                sku=line_of.sku[:64],
                **values,
            )
        carry(conn, self.tables.product_running, e.tenant_id, row.currency, day, sold)
        self._seller_fact(
            conn, e.tenant_id, row.seller_id, day, row.currency, orders=1, units=units
        )
        self._buyer_active(conn, e.tenant_id, row.buyer_id, day)

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
        b = self.tables.buyer_days
        theirs = (b.c.tenant_id == str(tenant_id), b.c.buyer_id == buyer_id)
        if conn.execute(sa.select(sa.literal(1)).where(*theirs, b.c.day == day)).first():
            return
        before = conn.execute(
            sa.select(sa.func.max(b.c.day)).where(*theirs, b.c.day < day)
        ).scalar()
        conn.execute(
            b.insert().values(
                tenant_id=str(tenant_id), day=day, buyer_id=buyer_id, previous_day=before
            )
        )
        counts = self.tables.buyer_day_counts
        bump(conn, counts, tenant_id, {"day": day, "previous_month": month_of(before)}, buyers=1)
        after = conn.execute(sa.select(sa.func.min(b.c.day)).where(*theirs, b.c.day > day)).scalar()
        if after is not None:
            conn.execute(b.update().where(*theirs, b.c.day == after).values(previous_day=day))
            moved = {"day": after, "previous_month": month_of(before)}
            bump(conn, counts, tenant_id, moved, buyers=-1)
            bump(conn, counts, tenant_id, moved | {"previous_month": month_of(day)}, buyers=1)

    @apply.register
    def _order_paid(self, e: Order.Paid, conn: Connection, r: RecordedEvent) -> None:
        orders = self.tables.orders
        currency = conn.execute(
            sa.select(orders.c.currency).where(orders.c.order_id == str(e.originator_id))
        ).scalar_one()
        key = {"day": day_of(e), "currency": currency}
        bump(conn, self.tables.marketplace_daily, e.tenant_id, key, orders=1)

    @apply.register
    def _shipped(self, e: SellerOrder.Shipped, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "shipped", carrier=e.carrier, tracking_number=e.tracking_number)

    @apply.register
    def _delivered(self, e: SellerOrder.Delivered, conn: Connection, r: RecordedEvent) -> None:
        self._step(
            conn,
            e,
            "delivered",
            delivered_at=naive_utc(e.delivered_at),
            escrow_release_due_at=naive_utc(e.escrow_release_due_at),
        )

    @apply.register
    def _held(
        self, e: SellerOrder.EscrowHeld | Settlement.Funded, conn: Connection, r: RecordedEvent
    ) -> None:
        self._escrow(conn, e, "held")

    @apply.register
    def _released(
        self,
        e: SellerOrder.EscrowReleased | Settlement.Released,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        self._escrow(
            conn,
            e,
            "released",
            released_at=naive_utc(e.timestamp),
            payout_remaining=e.seller_net_minor,
        )

    @apply.register
    def _allocated(
        self,
        e: SellerOrder.PayoutAllocated | Settlement.PayoutAllocated,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        self._paid_out(conn, e, e.amount_minor)

    @apply.register
    def _returned(
        self,
        e: SellerOrder.PayoutReturned | Settlement.PayoutReturned,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        self._paid_out(conn, e, -e.amount_minor)

    def _paid_out(self, conn: Connection, e: Any, amount: int) -> None:
        so = self.tables.seller_orders
        conn.execute(
            so.update()
            .where(so.c.seller_order_id == seller_order_of(e))
            .values(
                paid_out_amount=so.c.paid_out_amount + amount,
                payout_remaining=so.c.payout_remaining - amount,
                updated_at=naive_utc(e.timestamp),
            )
        )

    @apply.register
    def _refunded(
        self,
        e: SellerOrder.EscrowRefunded | Settlement.Returned,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        """A paid seller order was cancelled: what remained is refunded, and with it whatever
        commission had not been reversed yet."""
        row = self._row(conn, e)
        self._escrow(
            conn,
            e,
            "refunded",
            refunded_amount=row.subtotal_amount + row.shipping_amount,
            commission_reversed_amount=row.commission_amount,
        )
        left = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(self.tables.sales_facts.c.commission), 0)).where(
                self.tables.sales_facts.c.seller_order_id == seller_order_of(e)
            )
        ).scalar()
        self._fact(conn, e, r, row, refunds=e.amount_minor, commission=-int(left or 0))

    @apply.register
    def _refunded_part(
        self, e: SellerOrder.Refunded | Settlement.Refunded, conn: Connection, r: RecordedEvent
    ) -> None:
        so = self.tables.seller_orders
        row = conn.execute(
            sa.select(
                so.c.subtotal_amount,
                so.c.shipping_amount,
                so.c.refunded_amount,
                so.c.disputed_amount,
                so.c.status,
                so.c.commission_reversed_amount,
            ).where(so.c.seller_order_id == seller_order_of(e))
        ).one()
        refunded = row.refunded_amount + e.amount_minor
        whole = refunded + row.disputed_amount == row.subtotal_amount + row.shipping_amount
        values: dict[str, Any] = {
            "refunded_amount": refunded,
            "commission_reversed_amount": (
                row.commission_reversed_amount + e.commission_reversed_minor
            ),
        }
        if e.from_escrow:
            values["escrow_status"] = "refunded" if whole else "partially_refunded"
        self._step(conn, e, "refunded" if whole else row.status, **values)
        self._fact(
            conn,
            e,
            r,
            self._row(conn, e),
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
        row = self._row(conn, e)
        self._step(
            conn,
            e,
            row.status,
            dispute_status="open",
            dispute_amount=e.amount_minor,
            dispute_commission_amount=e.commission_minor,
        )
        self._order_disputed(conn, row.order_id, "open")

    @apply.register
    def _dispute_closed(
        self,
        e: SellerOrder.DisputeClosed | Settlement.DisputeClosed,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        """Won, nothing more; lost, the share is gone as a refund's would be (the dashboards
        count it with refunds) and the seller's part of the fee is noted."""
        row = self._row(conn, e)
        status, values = row.status, {"dispute_status": e.outcome}
        if e.outcome == "lost":
            taken = row.refunded_amount + row.disputed_amount + row.dispute_amount
            whole = taken == row.subtotal_amount + row.shipping_amount
            values |= {
                "disputed_amount": row.disputed_amount + row.dispute_amount,
                "commission_reversed_amount": (
                    row.commission_reversed_amount + row.dispute_commission_amount
                ),
                "dispute_fee_amount": row.dispute_fee_amount + e.fee_minor,
            }
            if row.escrow_status in ("held", "partially_refunded"):
                values["escrow_status"] = "refunded" if whole else "partially_refunded"
            status = "refunded" if whole else status
            self._fact(
                conn,
                e,
                r,
                row,
                refunds=row.dispute_amount,
                commission=-row.dispute_commission_amount,
            )
        self._step(conn, e, status, **values)
        self._order_disputed(conn, row.order_id, e.outcome)

    def _order_disputed(self, conn: Connection, order_id: str, status: str) -> None:
        orders = self.tables.orders
        conn.execute(
            orders.update().where(orders.c.order_id == order_id).values(dispute_status=status)
        )

    @apply.register
    def _return_requested(self, e: Return.Requested, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.returns.insert().values(
                return_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                seller_order_id=str(e.seller_order_id),
                order_id=str(e.order_id),
                buyer_id=str(e.buyer_id),
                seller_id=str(e.seller_id),
                status="requested",
                currency=e.currency,
                lines=[
                    {"product_id": e.products[v], "variant_id": v, "quantity": q}
                    for v, q in e.lines.items()
                ],
                reason=e.reason,
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _return_authorized(self, e: Return.Authorized, conn: Connection, r: RecordedEvent) -> None:
        self._return_step(conn, e, "authorized", instructions=e.instructions)

    @apply.register
    def _return_rejected(self, e: Return.Rejected, conn: Connection, r: RecordedEvent) -> None:
        self._return_step(conn, e, "rejected", rejection_reason=e.reason)

    @apply.register
    def _return_shipped(self, e: Return.Shipped, conn: Connection, r: RecordedEvent) -> None:
        self._return_step(
            conn, e, "in_transit", carrier=e.carrier, tracking_number=e.tracking_number
        )

    @apply.register
    def _return_received(self, e: Return.Received, conn: Connection, r: RecordedEvent) -> None:
        self._return_step(
            conn,
            e,
            "received",
            received_lines=e.lines,
            refund_id=str(e.refund_id) if e.refund_id else None,
            refund_amount=e.refund_minor,
        )

    def _return_step(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        returns = self.tables.returns
        conn.execute(
            returns.update()
            .where(returns.c.return_id == str(e.originator_id))
            .values(status=status, updated_at=naive_utc(e.timestamp), **values)
        )

    @apply.register
    def _refund_requested(self, e: Refund.Requested, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.refunds.insert().values(
                refund_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                seller_order_id=str(e.seller_order_id),
                order_id=str(e.order_id),
                buyer_id=str(e.buyer_id),
                seller_id=str(e.seller_id),
                amount=e.amount_minor,
                currency=e.currency,
                reason=e.reason,
                status="requested",
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _refund_approved(self, e: Refund.Approved, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.refunds.update()
            .where(self.tables.refunds.c.refund_id == str(e.originator_id))
            .values(
                status="approved",
                commission_reversed=e.commission_reversed_minor,
                from_escrow=e.from_escrow,
                provider_refund_id=e.provider_refund_id,
                updated_at=naive_utc(e.timestamp),
            )
        )

    @apply.register
    def _refund_rejected(self, e: Refund.Rejected, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.refunds.update()
            .where(self.tables.refunds.c.refund_id == str(e.originator_id))
            .values(status="rejected", updated_at=naive_utc(e.timestamp))
        )

    def _row(self, conn: Connection, e: Any) -> Any:
        so = self.tables.seller_orders
        return conn.execute(sa.select(so).where(so.c.seller_order_id == seller_order_of(e))).one()

    def _fact(
        self,
        conn: Connection,
        e: Any,
        r: RecordedEvent,
        row: Any,
        *,
        gmv: int = 0,
        commission: int = 0,
        refunds: int = 0,
    ) -> None:
        conn.execute(
            self.tables.sales_facts.insert().values(
                created_position=r.position,
                tenant_id=row.tenant_id,
                seller_id=row.seller_id,
                seller_order_id=row.seller_order_id,
                day=day_of(e),
                currency=row.currency,
                gmv=gmv,
                commission=commission,
                refunds=refunds,
            )
        )
        money = {"gmv": gmv, "commission": commission, "refunds": refunds}
        day = day_of(e)
        self._seller_fact(conn, row.tenant_id, row.seller_id, day, row.currency, **money)
        key = {"day": day, "currency": row.currency}
        bump(conn, self.tables.marketplace_daily, row.tenant_id, key, **money)

    def _escrow(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        conn.execute(
            self.tables.seller_orders.update()
            .where(self.tables.seller_orders.c.seller_order_id == seller_order_of(e))
            .values(escrow_status=status, updated_at=naive_utc(e.timestamp), **values)
        )

    @apply.register
    def _completed(self, e: SellerOrder.Completed, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "completed")

    @apply.register
    def _cancelled(self, e: SellerOrder.Cancelled, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "cancelled")

    def _step(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        so_id, so = seller_order_of(e), self.tables.seller_orders
        conn.execute(
            so.update()
            .where(so.c.seller_order_id == so_id)
            .values(status=status, updated_at=naive_utc(e.timestamp), **values)
        )
        order_id = conn.execute(
            sa.select(so.c.order_id).where(so.c.seller_order_id == so_id)
        ).scalar_one()
        parts = conn.execute(
            sa.select(so.c.status, so.c.refunded_amount, so.c.disputed_amount).where(
                so.c.order_id == order_id
            )
        ).all()
        statuses = [p.status for p in parts]
        refunded_any = any(p.refunded_amount or p.disputed_amount for p in parts)
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == order_id)
            .values(
                status=order_status(statuses, refunded_any),
                updated_at=naive_utc(e.timestamp),
            )
        )


class CartsProjector(Projector):
    name = "carts"
    writes = ("carts", "cart_sellers")
    # A cart line's seller is read from the catalog model, so that model must be at least as
    # far along as this one.
    upstream = ("catalog",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events do not touch the carts table."""

    @apply.register
    def _opened(self, e: Cart.Opened, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.carts.insert().values(
                cart_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                buyer_id=str(e.buyer_id),
                status="open",
                lines={},
                created_at=naive_utc(e.timestamp),
                updated_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _quantity(self, e: Cart.QuantitySet, conn: Connection, r: RecordedEvent) -> None:
        cart_id, carts = str(e.originator_id), self.tables.carts
        lines = dict(
            conn.execute(sa.select(carts.c.lines).where(carts.c.cart_id == cart_id)).scalar_one()
        )
        if e.quantity:
            lines[str(e.variant_id)] = e.quantity
            self._seller_carted(conn, e)
        else:
            lines.pop(str(e.variant_id), None)
        conn.execute(
            self.tables.carts.update()
            .where(self.tables.carts.c.cart_id == cart_id)
            .values(lines=lines, updated_at=naive_utc(e.timestamp))
        )

    @apply.register
    def _checked_out(self, e: Cart.CheckedOut, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.carts.update()
            .where(self.tables.carts.c.cart_id == str(e.originator_id))
            .values(
                status="checked_out", order_id=str(e.order_id), updated_at=naive_utc(e.timestamp)
            )
        )

    def _seller_carted(self, conn: Connection, e: Cart.QuantitySet) -> None:
        """Counts the cart once for the product's seller, on the day its first product went in."""
        products = self.tables.products
        seller_id = conn.execute(
            sa.select(products.c.seller_id).where(products.c.product_id == str(e.product_id))
        ).scalar()
        if seller_id is not None:
            key = {"cart_id": str(e.originator_id), "seller_id": seller_id}
            bump(conn, self.tables.cart_sellers, e.tenant_id, key, day=day_of(e))


def day_of(e: Any) -> date:
    """The UTC day an event happened on: the day the dashboards count it."""
    return e.timestamp.astimezone(UTC).date()  # type: ignore[no-any-return]


def month_of(day: date | None) -> date:
    """The first day of the day's month; FIRST_PURCHASE for no day."""
    return FIRST_PURCHASE if day is None else day.replace(day=1)


def carry(
    conn: Connection,
    table: sa.Table,
    tenant_id: object,
    currency: str,
    day: date,
    rows: list[tuple[dict[str, Any], dict[str, int]]],
) -> None:
    """Adds each (key, values) to the key's running totals in `table` (seller_running,
    product_running) for the day's month and every later month the tenant has totals in. A
    month's first figures start its rows as a copy of the month's before it, so each month
    holds every key that has figures by its end."""
    month = day.replace(day=1)
    ours = (table.c.tenant_id == str(tenant_id), table.c.currency == currency)

    def last_month(*where: Any) -> date | None:
        return conn.execute(sa.select(sa.func.max(table.c.month)).where(*ours, *where)).scalar()

    latest = last_month()
    if latest is not None and latest > month:  # out of day order: later months hold it too
        months = sa.select(table.c.month).where(*ours, table.c.month >= month).distinct()
        later = list(conn.execute(months.order_by(table.c.month)).scalars())
    else:
        later = [month] if latest == month else []
    if not later or later[0] != month:  # the month's first figures: it starts as the last one
        since = last_month(table.c.month < month)
        if since is not None:
            copied = [c.name for c in table.columns]
            conn.execute(
                table.insert().from_select(
                    copied,
                    sa.select(
                        *(
                            sa.literal(month).label(c) if c == "month" else table.c[c]
                            for c in copied
                        )
                    ).where(*ours, table.c.month == since),
                )
            )
        later.insert(0, month)
    for key, values in rows:
        for held_month in later:
            key_then = key | {"month": held_month, "currency": currency}
            bump(conn, table, tenant_id, key_then, **values)


_UPSERTS: dict[tuple[sa.Table, str, tuple[str, ...]], Any] = {}


def bump(
    conn: Connection, table: sa.Table, tenant_id: object, key: dict[str, Any], **values: Any
) -> None:
    """Adds the integer `values` to the row with `key`, or makes it with them: one upsert, built
    once per table and kind of change, where the database has one. A row that exists keeps its
    other values (non-integers given are set only on making it)."""
    counters = {
        c.name: 0
        for c in table.columns
        if isinstance(c.type, sa.Integer) and c.name not in key and not c.primary_key
    }
    row = {"tenant_id": str(tenant_id), **key, **counters, **values}
    adds = tuple(k for k, v in values.items() if type(v) is int and v)
    dialect = conn.dialect.name
    upsert = _UPSERTS.get((table, dialect, adds))
    if upsert is None and dialect == "sqlite":
        insert = sqlite.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        upsert = (
            insert.on_conflict_do_update(
                index_elements=keys, set_={k: table.c[k] + insert.excluded[k] for k in adds}
            )
            if adds
            else insert.on_conflict_do_nothing(index_elements=keys)
        )
    elif upsert is None and dialect in ("mysql", "mariadb"):
        on_mysql = mysql.insert(table)
        upsert = on_mysql.on_duplicate_key_update(
            {k: table.c[k] + on_mysql.inserted[k] for k in adds}
            or {"tenant_id": on_mysql.inserted.tenant_id}
        )
    if upsert is not None:
        _UPSERTS[(table, dialect, adds)] = upsert
        conn.execute(upsert, row)
        return
    where = [table.c.tenant_id == str(tenant_id), *(table.c[k] == v for k, v in key.items())]
    if conn.execute(sa.select(sa.literal(1)).where(*where)).first() is None:
        conn.execute(table.insert().values(row))
    elif adds:
        conn.execute(table.update().where(*where).values({k: table.c[k] + row[k] for k in adds}))
