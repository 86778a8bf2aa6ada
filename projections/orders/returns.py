"""The orders model's returns (domain/returns.py): one row each, with the step it stands at as
buyers and sellers see it, the lines it asks back and, once received, the refund it made. Called
by the orders projector, in its transaction. What the refund takes of the seller order's money
is its settlement's events', which the projector folds into the seller order's row."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.returns import Return
from eventstore.mapper import RecordedEvent
from projections.store import naive_utc
from projections.tables import Tables


def requested(conn: Connection, tables: Tables, e: Return.Requested, r: RecordedEvent) -> None:
    conn.execute(
        tables.returns.insert().values(
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


def authorized(conn: Connection, tables: Tables, e: Return.Authorized) -> None:
    _return_step(conn, tables, e, "authorized", instructions=e.instructions)


def rejected(conn: Connection, tables: Tables, e: Return.Rejected) -> None:
    _return_step(conn, tables, e, "rejected", rejection_reason=e.reason)


def shipped(conn: Connection, tables: Tables, e: Return.Shipped) -> None:
    _return_step(
        conn, tables, e, "in_transit", carrier=e.carrier, tracking_number=e.tracking_number
    )


def received(conn: Connection, tables: Tables, e: Return.Received) -> None:
    _return_step(
        conn,
        tables,
        e,
        "received",
        received_lines=e.lines,
        refund_id=str(e.refund_id) if e.refund_id else None,
        refund_amount=e.refund_minor,
    )


def _return_step(conn: Connection, tables: Tables, e: Any, status: str, **values: Any) -> None:
    returns = tables.returns
    conn.execute(
        returns.update()
        .where(returns.c.return_id == str(e.originator_id))
        .values(status=status, updated_at=naive_utc(e.timestamp), **values)
    )
