"""Orders, seller orders and carts as buyers and sellers see them.

An order's status is derived from its seller orders: pending_payment while all await payment,
cancelled when all are cancelled, completed when every live one is, fulfilled when every live one
is delivered (or completed), and paid in between."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.carts import Cart
from domain.identity import User
from domain.orders import Order, SellerOrder
from domain.personal import redacted
from domain.refunds import Refund
from eventstore.mapper import RecordedEvent
from projections.runner import Projector
from projections.scope import TenantScope
from projections.store import Page, ReadStore, naive_utc, zoned
from projections.tables import (
    carts,
    orders,
    products,
    refunds,
    sales_facts,
    seller_orders,
)


def derive_order_status(statuses: list[str], refunded_any: bool = False) -> str:
    live = [s for s in statuses if s != "cancelled"]
    if not live:
        return "cancelled"
    if all(s == "refunded" for s in live):
        return "refunded"
    if refunded_any:
        return "partially_refunded"
    if all(s == "pending_payment" for s in live):
        return "pending_payment"
    if all(s == "completed" for s in live):
        return "completed"
    if all(s in ("delivered", "completed") for s in live):
        return "fulfilled"
    return "paid"


class OrdersProjector(Projector):
    name = "orders"
    writes = ("orders", "seller_orders", "refunds", "sales_facts")

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
                .values(shipping_address=redacted(address, e.originator_id))
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
            )
        )

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
            )
        )

    @apply.register
    def _paid(self, e: SellerOrder.Paid, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "paid")
        row = self._row(conn, e)
        self._fact(conn, e, r, row, gmv=row.subtotal_amount, commission=row.commission_amount)

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
    def _held(self, e: SellerOrder.EscrowHeld, conn: Connection, r: RecordedEvent) -> None:
        self._escrow(conn, e, "held")

    @apply.register
    def _released(self, e: SellerOrder.EscrowReleased, conn: Connection, r: RecordedEvent) -> None:
        self._escrow(
            conn,
            e,
            "released",
            released_at=naive_utc(e.timestamp),
            payout_remaining=e.seller_net_minor,
        )

    @apply.register
    def _allocated(
        self, e: SellerOrder.PayoutAllocated, conn: Connection, r: RecordedEvent
    ) -> None:
        self._paid_out(conn, e, e.amount_minor)

    @apply.register
    def _returned(self, e: SellerOrder.PayoutReturned, conn: Connection, r: RecordedEvent) -> None:
        self._paid_out(conn, e, -e.amount_minor)

    def _paid_out(self, conn: Connection, e: Any, amount: int) -> None:
        so = self.tables.seller_orders
        conn.execute(
            so.update()
            .where(so.c.seller_order_id == str(e.originator_id))
            .values(
                paid_out_amount=so.c.paid_out_amount + amount,
                payout_remaining=so.c.payout_remaining - amount,
                updated_at=naive_utc(e.timestamp),
            )
        )

    @apply.register
    def _refunded(self, e: SellerOrder.EscrowRefunded, conn: Connection, r: RecordedEvent) -> None:
        """A paid seller order was cancelled: what remained is refunded, and with it whatever
        commission had not been reversed yet."""
        row = self._row(conn, e)
        self._escrow(
            conn,
            e,
            "refunded",
            refunded_amount=row.subtotal_amount,
            commission_reversed_amount=row.commission_amount,
        )
        left = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(self.tables.sales_facts.c.commission), 0)).where(
                self.tables.sales_facts.c.seller_order_id == str(e.originator_id)
            )
        ).scalar()
        self._fact(conn, e, r, row, refunds=e.amount_minor, commission=-int(left or 0))

    @apply.register
    def _refunded_part(self, e: SellerOrder.Refunded, conn: Connection, r: RecordedEvent) -> None:
        so = self.tables.seller_orders
        row = conn.execute(
            sa.select(
                so.c.subtotal_amount,
                so.c.refunded_amount,
                so.c.status,
                so.c.commission_reversed_amount,
            ).where(so.c.seller_order_id == str(e.originator_id))
        ).one()
        refunded = row.refunded_amount + e.amount_minor
        whole = refunded == row.subtotal_amount
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
        return conn.execute(sa.select(so).where(so.c.seller_order_id == str(e.originator_id))).one()

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
                day=e.timestamp.astimezone(UTC).date(),
                currency=row.currency,
                gmv=gmv,
                commission=commission,
                refunds=refunds,
            )
        )

    def _escrow(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        conn.execute(
            self.tables.seller_orders.update()
            .where(self.tables.seller_orders.c.seller_order_id == str(e.originator_id))
            .values(escrow_status=status, updated_at=naive_utc(e.timestamp), **values)
        )

    @apply.register
    def _completed(self, e: SellerOrder.Completed, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "completed")

    @apply.register
    def _cancelled(self, e: SellerOrder.Cancelled, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, e, "cancelled")

    def _step(self, conn: Connection, e: Any, status: str, **values: Any) -> None:
        so_id, so = str(e.originator_id), self.tables.seller_orders
        conn.execute(
            so.update()
            .where(so.c.seller_order_id == so_id)
            .values(status=status, updated_at=naive_utc(e.timestamp), **values)
        )
        order_id = conn.execute(
            sa.select(so.c.order_id).where(so.c.seller_order_id == so_id)
        ).scalar_one()
        parts = conn.execute(
            sa.select(so.c.status, so.c.refunded_amount).where(so.c.order_id == order_id)
        ).all()
        statuses = [p.status for p in parts]
        refunded_any = any(p.refunded_amount for p in parts)
        conn.execute(
            self.tables.orders.update()
            .where(self.tables.orders.c.order_id == order_id)
            .values(
                status=derive_order_status(statuses, refunded_any),
                updated_at=naive_utc(e.timestamp),
            )
        )


class CartsProjector(Projector):
    name = "carts"
    writes = ("carts",)

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
            lines[str(e.product_id)] = e.quantity
        else:
            lines.pop(str(e.product_id), None)
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


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def seller_order_view(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "id": row["seller_order_id"],
        "order_id": row["order_id"],
        "tenant_id": row["tenant_id"],
        "buyer_id": row["buyer_id"],
        "seller_id": row["seller_id"],
        "status": row["status"],
        "escrow_status": row["escrow_status"],
        "subtotal": _money(row["subtotal_amount"], currency),
        "commission": _money(row["commission_amount"], currency),
        "seller_net": _money(row["seller_net_amount"], currency),
        "lines": [
            {
                "product_id": line["product_id"],
                "title": line["title"],
                "quantity": line["quantity"],
                "unit_price": _money(line["unit_price_minor"], currency),
                "line_total": _money(line["line_total_minor"], currency),
                "commission_bps": line["commission_bps"],
            }
            for line in row["lines"]
        ],
        "refunded": _money(row["refunded_amount"], currency),
        "carrier": row["carrier"],
        "tracking_number": row["tracking_number"],
        "delivered_at": zoned(row["delivered_at"]) if row["delivered_at"] else None,
        "escrow_release_due_at": (
            zoned(row["escrow_release_due_at"]) if row["escrow_release_due_at"] else None
        ),
        "created_at": zoned(row["created_at"]),
        "updated_at": zoned(row["updated_at"]),
    }


def earnings_line(row: dict[str, Any]) -> dict[str, Any]:
    """Gross, commission (after reversals), refunds and net of one seller order; gross minus
    refunds minus commission is exactly net."""
    currency = row["currency"]
    gross, refunds = row["subtotal_amount"], row["refunded_amount"]
    commission = row["commission_amount"] - row["commission_reversed_amount"]
    return {
        "seller_order_id": row["seller_order_id"],
        "order_id": row["order_id"],
        "status": row["status"],
        "escrow_status": row["escrow_status"],
        "gross": _money(gross, currency),
        "commission": _money(commission, currency),
        "refunds": _money(refunds, currency),
        "net": _money(gross - refunds - commission, currency),
        "paid_out": _money(row["paid_out_amount"], currency),
        "release_due_at": (
            zoned(row["escrow_release_due_at"]) if row["escrow_release_due_at"] else None
        ),
        "released_at": zoned(row["released_at"]) if row["released_at"] else None,
        "created_at": zoned(row["created_at"]),
    }


class OrderQueries:
    def __init__(self, store: ReadStore) -> None:
        self.store = store

    def order(
        self, scope: TenantScope, order_id: str, buyer_id: str | None
    ) -> dict[str, Any] | None:
        """An order with its seller orders; with buyer_id set, only that buyer's."""
        where = [orders.c.order_id == order_id]
        if buyer_id is not None:
            where.append(orders.c.buyer_id == buyer_id)
        row = self.store.one(scope, orders, *where)
        if row is None:
            return None
        return self._order_view(row, self._parts(scope, [order_id])[order_id])

    def orders(
        self,
        scope: TenantScope,
        *,
        buyer_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        where = []
        if buyer_id is not None:
            where.append(orders.c.buyer_id == buyer_id)
        if status:
            where.append(orders.c.status == status)
        page = self.store.page(scope, orders, *where, limit=limit, cursor=cursor)
        parts = self._parts(scope, [r["order_id"] for r in page.items])
        return Page(
            [self._order_view(r, parts[r["order_id"]]) for r in page.items], page.next_cursor
        )

    def _parts(self, scope: TenantScope, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The seller orders of several orders, in one query, each order's in creation order."""
        found: dict[str, list[dict[str, Any]]] = {order_id: [] for order_id in order_ids}
        if not order_ids:
            return found
        so = seller_orders
        with self.store.read() as conn:
            for r in conn.execute(
                scope.select(so, so.c.order_id.in_(order_ids)).order_by(so.c.created_position)
            ):
                found[r.order_id].append(dict(r._mapping))
        return found

    def seller_order(
        self, scope: TenantScope, seller_order_id: str, seller_id: str | None
    ) -> dict[str, Any] | None:
        where = [seller_orders.c.seller_order_id == seller_order_id]
        if seller_id is not None:
            where.append(seller_orders.c.seller_id == seller_id)
        row = self.store.one(scope, seller_orders, *where)
        return seller_order_view(row) if row else None

    def seller_orders(
        self,
        scope: TenantScope,
        *,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        where = []
        if seller_id is not None:
            where.append(seller_orders.c.seller_id == seller_id)
        if status:
            where.append(seller_orders.c.status == status)
        page = self.store.page(scope, seller_orders, *where, limit=limit, cursor=cursor)
        return Page([seller_order_view(r) for r in page.items], page.next_cursor)

    def earnings(
        self, scope: TenantScope, seller_id: str, *, limit: int, cursor: str | None
    ) -> Page:
        """The seller's earnings statement: one line per seller order that was paid."""
        so = seller_orders
        page = self.store.page(
            scope,
            so,
            so.c.seller_id == seller_id,
            so.c.escrow_status != "none",
            limit=limit,
            cursor=cursor,
        )
        return Page([earnings_line(r) for r in page.items], page.next_cursor)

    def payout_candidates(self, tenant_id: str, seller_id: str, limit: int = 500) -> list[str]:
        """A seller's seller orders with released money not yet paid out, oldest first. The
        payouts application checks each against its aggregate; this only says where to look."""
        so = seller_orders
        query = (
            TenantScope.only(tenant_id)
            .select(so, so.c.seller_id == seller_id, so.c.payout_remaining > 0)
            .with_only_columns(so.c.seller_order_id)
            .order_by(so.c.created_position)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [row.seller_order_id for row in conn.execute(query)]

    def cart(self, scope: TenantScope, cart_id: str, buyer_id: str) -> dict[str, Any] | None:
        """A cart's lines at today's prices, with totals per currency."""
        row = self.store.one(scope, carts, carts.c.cart_id == cart_id, carts.c.buyer_id == buyer_id)
        if row is None:
            return None
        ids = list(row["lines"])
        with self.store.read() as conn:
            found = (
                {
                    r.product_id: r
                    for r in conn.execute(
                        # A product hidden from buyers since (pending, or its seller suspended)
                        # shows as a bare line: no title, seller or price of it.
                        scope.select(
                            products,
                            products.c.product_id.in_(ids),
                            products.c.status == "active",
                            products.c.seller_status == "approved",
                        )
                    )
                }
                if ids
                else {}
            )
        lines, totals = [], {}  # type: ignore[var-annotated]
        for product_id, quantity in row["lines"].items():
            product = found.get(product_id)
            line: dict[str, Any] = {"product_id": product_id, "quantity": quantity}
            if product is not None:
                total = product.price_amount * quantity
                line.update(
                    title=product.title,
                    seller_id=product.seller_id,
                    unit_price=_money(product.price_amount, product.currency),
                    line_total=_money(total, product.currency),
                )
                totals[product.currency] = totals.get(product.currency, 0) + total
            lines.append(line)
        return {
            "id": row["cart_id"],
            "buyer_id": row["buyer_id"],
            "status": row["status"],
            "order_id": row["order_id"],
            "lines": lines,
            "totals": [_money(a, c) for c, a in sorted(totals.items())],
        }

    def escrow_due(self, now: datetime, limit: int) -> list[str]:
        """Delivered seller orders whose escrow hold has passed, across every tenant."""
        so = seller_orders
        stmt = (
            TenantScope.every_tenant()
            .select(
                so,
                so.c.status == "delivered",
                so.c.escrow_status.in_(["held", "partially_refunded"]),
                so.c.escrow_release_due_at <= naive_utc(now),
            )
            .order_by(so.c.escrow_release_due_at)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [r.seller_order_id for r in conn.execute(stmt)]

    def refund(self, scope: TenantScope, refund_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, refunds, refunds.c.refund_id == refund_id)
        if row is None:
            return None
        return {
            "id": row["refund_id"],
            "tenant_id": row["tenant_id"],
            "seller_order_id": row["seller_order_id"],
            "order_id": row["order_id"],
            "buyer_id": row["buyer_id"],
            "seller_id": row["seller_id"],
            "amount": _money(row["amount"], row["currency"]),
            "reason": row["reason"],
            "status": row["status"],
            "from_escrow": row["from_escrow"],
            "commission_reversed": (
                _money(row["commission_reversed"], row["currency"])
                if row["commission_reversed"] is not None
                else None
            ),
            "provider_refund_id": row["provider_refund_id"],
            "created_at": zoned(row["created_at"]),
            "updated_at": zoned(row["updated_at"]),
        }

    def overdue(self, now: datetime, limit: int) -> list[str]:
        """Orders still awaiting payment after their holds expired, across every tenant: the
        scheduler's work list."""
        stmt = (
            TenantScope.every_tenant()
            .select(
                orders, orders.c.status == "pending_payment", orders.c.expires_at <= naive_utc(now)
            )
            .order_by(orders.c.expires_at)
            .limit(limit)
        )
        with self.store.read() as conn:
            return [r.order_id for r in conn.execute(stmt)]

    @staticmethod
    def _order_view(row: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": row["order_id"],
            "tenant_id": row["tenant_id"],
            "buyer_id": row["buyer_id"],
            "status": row["status"],
            "total": _money(row["total_amount"], row["currency"]),
            "shipping_address": row["shipping_address"],
            "payment": {
                "provider": row["payment_provider"],
                "intent_id": row["payment_intent_id"],
                "returned": _money(row["returned_amount"], row["currency"]),
            },
            "needs_review": bool(row["needs_review"]),
            "review_reason": row["review_reason"],
            "expires_at": zoned(row["expires_at"]),
            "seller_orders": [seller_order_view(p) for p in parts],
            "created_at": zoned(row["created_at"]),
            "updated_at": zoned(row["updated_at"]),
        }


def sales_report(
    store: ReadStore, scope: TenantScope, *, start: date, end: date, group_by: str
) -> Iterator[dict[str, Any]]:
    """GMV, commission, refunds and net per seller or per day over [start, end], streamed from
    the database in key order, so a long range never sits in memory at once."""
    f = sales_facts
    key = f.c.seller_id if group_by == "seller" else f.c.day
    stmt = (
        scope.select(f, f.c.day >= start, f.c.day <= end)
        .with_only_columns(
            key.label("key"),
            f.c.currency,
            sa.func.sum(f.c.gmv),
            sa.func.sum(f.c.commission),
            sa.func.sum(f.c.refunds),
        )
        .group_by(key, f.c.currency)
        .order_by(key, f.c.currency)
    )
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=500).execute(stmt)
        for group, currency, gmv, commission, refunded in result:
            gmv, commission, refunded = int(gmv), int(commission), int(refunded)
            yield {
                group_by: str(group),
                "currency": currency,
                "gmv": gmv,
                "commission": commission,
                "refunds": refunded,
                "net": gmv - refunded - commission,
            }
