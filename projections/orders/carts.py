"""The carts projector: each cart with its lines and the order it became, and each seller once
per cart that held its products (`cart_sellers`, the dashboards' carts for conversion)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.carts import Cart
from eventstore.mapper import RecordedEvent
from projections.analytics.facts import bump, day_of
from projections.projector import Projector
from projections.store import naive_utc


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
    def _codes(
        self, e: Cart.CodeApplied | Cart.CodeRemoved, conn: Connection, r: RecordedEvent
    ) -> None:
        carts = self.tables.carts
        where = carts.c.cart_id == str(e.originator_id)
        codes = list(conn.execute(sa.select(carts.c.codes).where(where)).scalar_one() or [])
        if isinstance(e, Cart.CodeApplied):
            codes.append(e.code)
        else:
            codes = [c for c in codes if c != e.code]
        at = naive_utc(e.timestamp)
        conn.execute(carts.update().where(where).values(codes=codes, updated_at=at))

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
