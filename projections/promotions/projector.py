"""The promotions projector: each promotion's terms, whether it ended, and how many uses its
limits count."""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from sqlalchemy.engine import Connection

from domain.promotions import Promotion
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class PromotionsProjector(Projector):
    name = "promotions"
    writes = ("promotions",)

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        return None

    @apply.register
    def _created(self, e: Promotion.Created, conn: Connection, r: RecordedEvent) -> None:
        terms = dict(e.terms)
        conn.execute(
            self.tables.promotions.insert().values(
                promotion_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                code=terms.get("code") or None,
                seller_id=terms.get("seller_id"),
                funded_by=terms["funded_by"],
                terms=terms,
                created_at=naive_utc(e.timestamp),
                created_position=r.position,
            )
        )

    @apply.register
    def _ended(self, e: Promotion.Ended, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, ended_at=naive_utc(e.at))

    @apply.register
    def _redeemed(self, e: Promotion.Redeemed, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, uses=self.tables.promotions.c.uses + 1)

    @apply.register
    def _released(self, e: Promotion.Released, conn: Connection, r: RecordedEvent) -> None:
        self._update(conn, e, uses=self.tables.promotions.c.uses - 1)

    def _update(self, conn: Connection, e: Any, **values: Any) -> None:
        table = self.tables.promotions
        conn.execute(
            table.update().where(table.c.promotion_id == str(e.originator_id)).values(**values)
        )
