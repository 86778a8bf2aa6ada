"""Queries over the order read models: orders, seller orders, earnings and the sales report,
all within the caller's tenant scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.discounts import DiscountLine, apply_all
from domain.money import money_json
from domain.shipping import charge
from projections.catalog.tables import plan_charges, product_variants, products, shipping_rates
from projections.orders.tables import carts, orders, refunds, returns, seller_orders
from projections.orders.views import (
    discounts_view,
    earnings_line,
    plan_fee_line,
    return_view,
    seller_order_view,
)
from projections.promotions.queries import PromotionQueries
from projections.scope import TenantScope
from projections.store import Page, ReadStore, encode_cursor, naive_utc, zoned


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
        """The seller's earnings statement: one line per seller order that was paid, and one per
        plan fee charged or credited, in the order they happened."""
        so, fees = seller_orders, plan_charges
        orders = self.store.page(
            scope,
            so,
            so.c.seller_id == seller_id,
            so.c.escrow_status != "none",
            limit=limit,
            cursor=cursor,
        )
        charges = self.store.page(
            scope, fees, fees.c.seller_id == seller_id, limit=limit, cursor=cursor
        )
        lines = sorted(
            [(r["created_position"], earnings_line(r)) for r in orders.items]
            + [(r["created_position"], plan_fee_line(r)) for r in charges.items],
            key=lambda line: line[0],
        )
        more = (
            len(lines) > limit or orders.next_cursor is not None or charges.next_cursor is not None
        )
        lines = lines[:limit]
        return Page([line for _, line in lines], encode_cursor(lines[-1][0]) if more else None)

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
        """A cart's lines (variants) at today's prices, with totals per currency."""
        row = self.store.one(scope, carts, carts.c.cart_id == cart_id, carts.c.buyer_id == buyer_id)
        if row is None:
            return None
        ids = list(row["lines"])
        v, p = product_variants, products
        with self.store.read() as conn:
            found = (
                {
                    r.variant_id: r
                    for r in conn.execute(
                        # A variant hidden from buyers since (its product pending, its seller
                        # suspended, or it retired) shows as a bare line: no title or price.
                        scope.select(v, v.c.variant_id.in_(ids), v.c.retired == sa.false())
                        .join(p, p.c.product_id == v.c.product_id)
                        .add_columns(p.c.title, p.c.seller_id, p.c.category)
                        .where(p.c.status == "active", p.c.seller_status == "approved")
                    )
                }
                if ids
                else {}
            )
        lines, totals = [], {}  # type: ignore[var-annotated]
        discountable = []
        for variant_id, quantity in row["lines"].items():
            variant = found.get(variant_id)
            line: dict[str, Any] = {
                "product_id": variant.product_id if variant else variant_id,
                "variant_id": variant_id,
                "quantity": quantity,
            }
            if variant is not None:
                total = variant.price_amount * quantity
                line.update(
                    title=variant.title,
                    seller_id=variant.seller_id,
                    sku=variant.sku,
                    options=dict(variant.options or {}),
                    unit_price=money_json(variant.price_amount, variant.currency),
                    line_total=money_json(total, variant.currency),
                )
                totals[variant.currency] = totals.get(variant.currency, 0) + total
                discountable.append(
                    DiscountLine(
                        UUID(variant_id),
                        UUID(variant.product_id),
                        UUID(variant.seller_id),
                        variant.category,
                        total,
                        variant.currency,
                    )
                )
            lines.append(line)
        candidates = PromotionQueries(self.store).candidates(scope, list(row["codes"] or []))
        applied = apply_all(candidates, discountable, {}, strict=False)
        currency = next(iter(totals), None)
        return {
            "id": row["cart_id"],
            "buyer_id": row["buyer_id"],
            "status": row["status"],
            "order_id": row["order_id"],
            "lines": lines,
            "totals": [money_json(a, c) for c, a in sorted(totals.items())],
            "codes": list(row["codes"] or []),
            "discounts": discounts_view(applied.discounts, currency),
        }

    def shipping_options(
        self, scope: TenantScope, cart_id: str, buyer_id: str, country: str
    ) -> dict[str, Any] | None:
        """Per seller in the cart, its rates that ship to `country`, each priced for that
        seller's items at today's prices (0 from the rate's `free_over` on)."""
        cart = self.cart(scope, cart_id, buyer_id)
        if cart is None:
            return None
        totals: dict[str, int] = {}
        for line in cart["lines"]:
            if line.get("seller_id"):
                seller = line["seller_id"]
                totals[seller] = totals.get(seller, 0) + line["line_total"]["amount"]
        r = shipping_rates
        with self.store.read() as conn:
            rates = (
                list(
                    conn.execute(
                        scope.select(r, r.c.seller_id.in_(sorted(totals))).order_by(
                            r.c.created_position
                        )
                    )
                )
                if totals
                else []
            )
        groups = []
        for seller_id, subtotal in totals.items():
            options = [
                {
                    "rate_id": rate.rate_id,
                    "name": rate.name,
                    "price": money_json(
                        charge(rate.price_amount, rate.free_over_amount, subtotal), rate.currency
                    ),
                    "min_days": rate.min_days,
                    "max_days": rate.max_days,
                }
                for rate in rates
                if rate.seller_id == seller_id and country in rate.countries
            ]
            # A seller without rates ships at no charge and needs no choice; one with rates
            # but none for this country cannot ship there.
            required = any(rate.seller_id == seller_id for rate in rates)
            groups.append({"seller_id": seller_id, "rate_required": required, "options": options})
        return {"groups": groups}

    def escrow_due(self, now: datetime, limit: int) -> list[str]:
        """Delivered seller orders whose release delay has passed, across every tenant, but for
        those a dispute holds (released once it is won)."""
        so = seller_orders
        stmt = (
            TenantScope.every_tenant()
            .select(
                so,
                so.c.status == "delivered",
                so.c.escrow_status.in_(["held", "partially_refunded"]),
                so.c.escrow_release_due_at <= naive_utc(now),
                so.c.dispute_status != "open",
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
            "amount": money_json(row["amount"], row["currency"]),
            "reason": row["reason"],
            "status": row["status"],
            "from_escrow": row["from_escrow"],
            "commission_reversed": (
                money_json(row["commission_reversed"], row["currency"])
                if row["commission_reversed"] is not None
                else None
            ),
            "provider_refund_id": row["provider_refund_id"],
            "created_at": zoned(row["created_at"]),
            "updated_at": zoned(row["updated_at"]),
        }

    def return_(self, scope: TenantScope, return_id: str) -> dict[str, Any] | None:
        row = self.store.one(scope, returns, returns.c.return_id == return_id)
        return None if row is None else return_view(row)

    def returns(
        self,
        scope: TenantScope,
        *,
        buyer_id: str | None,
        seller_id: str | None,
        status: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page:
        """Returns in the order they were asked for: a buyer's, a seller's, or (both None) the
        tenant's, of one status or all."""
        r = returns
        where = [
            *([r.c.buyer_id == buyer_id] if buyer_id else []),
            *([r.c.seller_id == seller_id] if seller_id else []),
            *([r.c.status == status] if status else []),
        ]
        page = self.store.page(scope, r, *where, limit=limit, cursor=cursor)
        return Page([return_view(row) for row in page.items], page.next_cursor)

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
            "total": money_json(row["total_amount"], row["currency"]),
            "shipping": money_json(row["shipping_amount"], row["currency"]),
            "tax": money_json(row["tax_amount"], row["currency"]),
            "discount": money_json(row["discount_amount"], row["currency"]),
            "shipping_address": row["shipping_address"],
            "payment": {
                "provider": row["payment_provider"],
                "intent_id": row["payment_intent_id"],
                "returned": money_json(row["returned_amount"], row["currency"]),
            },
            "needs_review": bool(row["needs_review"]),
            "review_reason": row["review_reason"],
            "dispute_status": row["dispute_status"],
            "expires_at": zoned(row["expires_at"]),
            "seller_orders": [seller_order_view(p) for p in parts],
            "created_at": zoned(row["created_at"]),
            "updated_at": zoned(row["updated_at"]),
        }
