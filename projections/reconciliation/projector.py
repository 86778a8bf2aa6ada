"""The reconciliation projector: the links that join Velora's ids to the provider's, learnt from
the events that recorded the provider's ids, and each reconciliation as a row the API reads (a
day run again replaces its row). It reads no other model."""

from __future__ import annotations

from datetime import date
from functools import singledispatchmethod
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.disputes import Dispute
from domain.orders import Order
from domain.payouts import Payout
from domain.reconciliation import Reconciliation
from domain.refunds import Refund
from eventstore.mapper import RecordedEvent
from projections.projector import Projector
from projections.store import naive_utc


class ReconciliationProjector(Projector):
    name = "reconciliation"
    writes = ("reconciliation_links", "reconciliations")

    @singledispatchmethod
    def apply(self, event: Any, conn: Connection, recorded: RecordedEvent) -> None:
        """Other events link nothing."""

    @apply.register
    def _placed(self, e: Order.Placed, conn: Connection, r: RecordedEvent) -> None:
        order = f"order:{e.originator_id}"
        for seller_order_id in e.seller_order_ids:
            self._link(conn, e, r, f"seller_order:{seller_order_id}", order)

    @apply.register
    def _intent(self, e: Order.PaymentIntentAttached, conn: Connection, r: RecordedEvent) -> None:
        self._link(conn, e, r, f"order:{e.originator_id}", f"intent:{e.intent_id}")
        self._link(conn, e, r, f"intent:{e.intent_id}", f"order:{e.originator_id}")

    @apply.register
    def _returned(self, e: Order.PaymentReturned, conn: Connection, r: RecordedEvent) -> None:
        why = "late" if e.late else "cancel"
        self._link(conn, e, r, f"{why}:{e.originator_id}", f"refund:{e.provider_refund_id}")

    @apply.register
    def _refunded(self, e: Refund.Approved, conn: Connection, r: RecordedEvent) -> None:
        self._link(conn, e, r, f"refund:{e.originator_id}", f"refund:{e.provider_refund_id}")

    @apply.register
    def _paid_out(self, e: Payout.Paid, conn: Connection, r: RecordedEvent) -> None:
        for transfer_id in e.provider_transfer_ids:
            self._link(conn, e, r, f"payout:{e.originator_id}", f"transfer:{transfer_id}")
            self._link(conn, e, r, f"transfer:{transfer_id}", f"payout:{e.originator_id}")

    @apply.register
    def _disputed(self, e: Dispute.Opened, conn: Connection, r: RecordedEvent) -> None:
        self._link(conn, e, r, f"dispute:{e.originator_id}", f"dispute:{e.provider_dispute_id}")

    @apply.register
    def _completed(self, e: Reconciliation.Completed, conn: Connection, r: RecordedEvent) -> None:
        conn.execute(
            self.tables.reconciliations.insert().values(
                reconciliation_id=str(e.originator_id),
                tenant_id=str(e.tenant_id),
                currency=e.currency,
                day=date.fromisoformat(e.day),
                created_position=r.position,
                **_result(e, run=1),
            )
        )

    @apply.register
    def _redone(self, e: Reconciliation.Redone, conn: Connection, r: RecordedEvent) -> None:
        """The day run again: its row now says what the latest run found, so the day is read
        once, never twice."""
        t = self.tables.reconciliations
        conn.execute(
            t.update()
            .where(t.c.reconciliation_id == str(e.originator_id))
            .values(**_result(e, run=e.run))
        )

    def _link(self, conn: Connection, e: Any, r: RecordedEvent, subject: str, ref: str) -> None:
        t = self.tables.reconciliation_links
        known = conn.execute(
            sa.select(t.c.subject).where(t.c.subject == subject, t.c.ref == ref)
        ).first()
        if known is None:  # an intent attached again, a payout's answer repeated
            conn.execute(
                t.insert().values(
                    subject=subject,
                    ref=ref,
                    tenant_id=str(e.tenant_id),
                    created_position=r.position,
                )
            )


def _result(e: Reconciliation.Completed | Reconciliation.Redone, run: int) -> dict[str, Any]:
    """A run's result as the row holds it."""
    result = {
        "matched": e.matched,
        "unmatched_ledger": e.unmatched_ledger,
        "unmatched_provider": e.unmatched_provider,
        "fees_booked": e.fees_booked,
        "run": run,
    }
    return {
        "matched_count": len(e.matched),
        "unmatched_count": len(e.unmatched_ledger) + len(e.unmatched_provider),
        "processor_fees_amount": e.processor_fees_minor,
        "result": result,
        "completed_at": naive_utc(e.timestamp),
    }
