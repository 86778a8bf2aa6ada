"""The orders model's refunds (domain/refunds.py): one row each, as it was asked for and how
it was decided. Called by the orders projector, in its transaction. What an approved refund
takes of the seller order's money is its settlement's events', which the projector folds into
the seller order's row."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from domain.refunds import Refund
from eventstore.mapper import RecordedEvent
from projections.store import naive_utc
from projections.tables import Tables


def requested(conn: Connection, tables: Tables, e: Refund.Requested, r: RecordedEvent) -> None:
    conn.execute(
        tables.refunds.insert().values(
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


def approved(conn: Connection, tables: Tables, e: Refund.Approved) -> None:
    conn.execute(
        tables.refunds.update()
        .where(tables.refunds.c.refund_id == str(e.originator_id))
        .values(
            status="approved",
            commission_reversed=e.commission_reversed_minor,
            from_escrow=e.from_escrow,
            provider_refund_id=e.provider_refund_id,
            updated_at=naive_utc(e.timestamp),
        )
    )


def rejected(conn: Connection, tables: Tables, e: Refund.Rejected) -> None:
    conn.execute(
        tables.refunds.update()
        .where(tables.refunds.c.refund_id == str(e.originator_id))
        .values(status="rejected", updated_at=naive_utc(e.timestamp))
    )
