"""The tax projector: what each settlement collected into `tax_payable` and gave back out of
it (domain/escrow.py posts the same amounts), added up per day, place and rate for the tax
report (projections/tax/queries.py). Its events carry their tax by rate, so it reads no other
read model; where a seller order was taxed it keeps itself (`tax_seller_orders`)."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.settlement import Settlement
from domain.tax import part_rate
from eventstore.mapper import RecordedEvent
from projections.analytics.facts import bump, day_of
from projections.projector import Projector


class TaxProjector(Projector):
    name = "tax"
    writes = ("tax_facts", "tax_seller_orders")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        return None

    @apply.register
    def _funded(self, e: Settlement.Funded, conn: Connection, r: RecordedEvent) -> None:
        if not e.tax_parts:
            return
        place = {
            "tenant_id": str(e.tenant_id),
            "currency": e.currency,
            "country": e.tax_country,
            "region": e.tax_region,
        }
        conn.execute(
            self.tables.tax_seller_orders.insert().values(
                seller_order_id=str(e.seller_order_id), **place
            )
        )
        self._count(conn, e, place, e.tax_parts, "collected")

    @apply.register
    def _given_back(
        self,
        e: Settlement.Refunded | Settlement.Returned | Settlement.DisputeClosed,
        conn: Connection,
        r: RecordedEvent,
    ) -> None:
        if not e.tax_parts:
            return
        places = self.tables.tax_seller_orders
        row = conn.execute(
            sa.select(places).where(places.c.seller_order_id == str(e.seller_order_id))
        ).one()
        place = {k: row._mapping[k] for k in ("tenant_id", "currency", "country", "region")}
        self._count(conn, e, place, e.tax_parts, "refunded")

    def _count(
        self, conn: Connection, e: Any, place: dict[str, Any], parts: dict[str, int], column: str
    ) -> None:
        for key, amount in sorted(parts.items()):
            rate_bps, name = part_rate(key)
            fact = {
                "day": day_of(e),
                "currency": place["currency"],
                "country": place["country"],
                "region": place["region"],
                "rate_bps": rate_bps,
                "name": name,
            }
            bump(conn, self.tables.tax_facts, place["tenant_id"], fact, **{column: amount})
