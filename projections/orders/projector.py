"""The orders projector: orders, seller orders, refunds and returns, each event of the log
folded into its rows. An order's status is derived from its seller orders' by the domain's
`order_status`. A return's and a refund's own rows, which touch no other table, are written by
projections/orders/returns.py and refunds.py, called from here in the same transaction. The
dashboards' facts about them are the analytics projector's (projections/analytics/projector.py),
which reads these rows; carts are the carts projector's (projections/orders/carts.py)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.identity import User
from domain.orders import Order, order_status
from domain.personal import redacted
from domain.refunds import Refund
from domain.returns import Return
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from domain.tax import parts_total
from eventstore.mapper import RecordedEvent
from projections.orders import refunds, returns
from projections.projector import Projector
from projections.store import naive_utc


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
                tax_amount=e.tax_minor,
                discount_amount=e.discount_minor,
                platform_funding_amount=e.platform_funding_minor,
            )
        )
        if e.shipping_minor or e.tax_minor or e.discount_minor:
            orders = self.tables.orders
            conn.execute(
                orders.update()
                .where(orders.c.order_id == str(e.order_id))
                .values(
                    shipping_amount=orders.c.shipping_amount + e.shipping_minor,
                    tax_amount=orders.c.tax_amount + e.tax_minor,
                    discount_amount=orders.c.discount_amount + e.discount_minor,
                )
            )

    @apply.register
    def _paid(self, e: SellerOrder.Paid, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "paid")

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
            refunded_amount=_gross(row),
            commission_reversed_amount=row.commission_amount,
            refunded_tax_amount=(
                row.refunded_tax_amount + parts_total(getattr(e, "tax_parts", {}))
            ),
            refunded_platform_amount=(
                row.refunded_platform_amount + getattr(e, "platform_minor", 0)
            ),
        )

    @apply.register
    def _refunded_part(
        self, e: SellerOrder.Refunded | Settlement.Refunded, conn: Connection, r: RecordedEvent
    ) -> None:
        so = self.tables.seller_orders
        row = conn.execute(
            sa.select(
                so.c.subtotal_amount,
                so.c.shipping_amount,
                so.c.tax_amount,
                so.c.refunded_amount,
                so.c.refunded_tax_amount,
                so.c.refunded_platform_amount,
                so.c.platform_funding_amount,
                so.c.dispute_lost_amount,
                so.c.status,
                so.c.commission_reversed_amount,
            ).where(so.c.seller_order_id == seller_order_of(e))
        ).one()
        refunded = row.refunded_amount + e.amount_minor
        whole = refunded + row.dispute_lost_amount == _gross(row)
        values: dict[str, Any] = {
            "refunded_amount": refunded,
            "commission_reversed_amount": (
                row.commission_reversed_amount + e.commission_reversed_minor
            ),
            "refunded_tax_amount": (
                row.refunded_tax_amount + parts_total(getattr(e, "tax_parts", {}))
            ),
            "refunded_platform_amount": (
                row.refunded_platform_amount + getattr(e, "platform_minor", 0)
            ),
        }
        if e.from_escrow:
            values["escrow_status"] = "refunded" if whole else "partially_refunded"
        self._step(conn, e, "refunded" if whole else row.status, **values)

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
            dispute_share_amount=e.amount_minor,
            dispute_share_commission_amount=e.commission_minor,
            dispute_share_tax_amount=parts_total(getattr(e, "tax_parts", {})),
            dispute_share_platform_amount=getattr(e, "platform_minor", 0),
        )
        self._order_disputed(conn, row.order_id, "open")

    @apply.register
    def _dispute_closed(
        self,
        e: SellerOrder.DisputeClosed | Settlement.DisputeClosed,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        """Won, nothing more; lost, the share is gone as a refund's would be and the seller's
        part of the fee is noted."""
        row = self._row(conn, e)
        status, values = row.status, {"dispute_status": e.outcome}
        if e.outcome == "lost":
            taken = row.refunded_amount + row.dispute_lost_amount + row.dispute_share_amount
            whole = taken == _gross(row)
            values |= {
                "dispute_lost_amount": row.dispute_lost_amount + row.dispute_share_amount,
                "dispute_lost_tax_amount": (
                    row.dispute_lost_tax_amount + row.dispute_share_tax_amount
                ),
                "dispute_lost_platform_amount": (
                    row.dispute_lost_platform_amount + row.dispute_share_platform_amount
                ),
                "commission_reversed_amount": (
                    row.commission_reversed_amount + row.dispute_share_commission_amount
                ),
                "dispute_fee_amount": row.dispute_fee_amount + e.fee_minor,
            }
            if row.escrow_status in ("held", "partially_refunded"):
                values["escrow_status"] = "refunded" if whole else "partially_refunded"
            status = "refunded" if whole else status
        self._step(conn, e, status, **values)
        self._order_disputed(conn, row.order_id, e.outcome)

    def _order_disputed(self, conn: Connection, order_id: str, status: str) -> None:
        orders = self.tables.orders
        conn.execute(
            orders.update().where(orders.c.order_id == order_id).values(dispute_status=status)
        )

    # Returns and refunds: their own rows (projections/orders/returns.py, refunds.py).

    @apply.register
    def _return_requested(self, e: Return.Requested, conn: Connection, r: RecordedEvent) -> None:
        returns.requested(conn, self.tables, e, r)

    @apply.register
    def _return_authorized(self, e: Return.Authorized, conn: Connection, r: RecordedEvent) -> None:
        returns.authorized(conn, self.tables, e)

    @apply.register
    def _return_rejected(self, e: Return.Rejected, conn: Connection, r: RecordedEvent) -> None:
        returns.rejected(conn, self.tables, e)

    @apply.register
    def _return_shipped(self, e: Return.Shipped, conn: Connection, r: RecordedEvent) -> None:
        returns.shipped(conn, self.tables, e)

    @apply.register
    def _return_received(self, e: Return.Received, conn: Connection, r: RecordedEvent) -> None:
        returns.received(conn, self.tables, e)

    @apply.register
    def _refund_requested(self, e: Refund.Requested, conn: Connection, r: RecordedEvent) -> None:
        refunds.requested(conn, self.tables, e, r)

    @apply.register
    def _refund_approved(self, e: Refund.Approved, conn: Connection, r: RecordedEvent) -> None:
        refunds.approved(conn, self.tables, e)

    @apply.register
    def _refund_rejected(self, e: Refund.Rejected, conn: Connection, r: RecordedEvent) -> None:
        refunds.rejected(conn, self.tables, e)

    def _row(self, conn: Connection, e: Any) -> Any:
        so = self.tables.seller_orders
        return conn.execute(sa.select(so).where(so.c.seller_order_id == seller_order_of(e))).one()

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
            sa.select(so.c.status, so.c.refunded_amount, so.c.dispute_lost_amount).where(
                so.c.order_id == order_id
            )
        ).all()
        statuses = [p.status for p in parts]
        refunded_any = any(p.refunded_amount or p.dispute_lost_amount for p in parts)
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == order_id)
            .values(
                status=order_status(statuses, refunded_any),
                updated_at=naive_utc(e.timestamp),
            )
        )


def _gross(row: Any) -> int:
    """What the buyer paid for a seller order: its items and shipping, less what the platform
    funds of them, and its tax."""
    return int(
        row.subtotal_amount + row.shipping_amount - row.platform_funding_amount + row.tax_amount
    )
