"""The scheduler: time-driven commands. It expires orders whose payment did not arrive before
their holds ran out (releasing the holds and cancelling the order), and releases escrow to sellers
once their tenant's escrow hold after delivery has passed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import DomainError
from eventstore.checkout import CheckoutApplication
from eventstore.context import CommandContext
from eventstore.fulfilment import FulfilmentApplication
from projections.orders import OrderQueries

log = logging.getLogger("velora.scheduler")


class Scheduler:
    def __init__(
        self,
        queries: OrderQueries,
        checkout: CheckoutApplication,
        fulfilment: FulfilmentApplication,
        interval_s: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.queries = queries
        self.checkout = checkout
        self.fulfilment = fulfilment
        self.interval_s = interval_s
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> int:
        """One pass: expires overdue unpaid orders and releases escrow that has fallen due.
        Returns how many orders it moved on."""
        now = now or datetime.now(UTC)

        def expire(order_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:expire")
            return self.checkout.expire(ctx, order_id, now) is not None

        def release(seller_order_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:release")
            self.fulfilment.release_escrow(ctx, seller_order_id, now)
            return True

        return self._each(self.queries.overdue(now, self.batch), expire) + self._each(
            self.queries.escrow_due(now, self.batch), release
        )

    @staticmethod
    def _each(ids: list[str], command: Callable[[UUID], bool]) -> int:
        done = 0
        for raw in ids:
            try:
                done += command(UUID(raw))
            except DomainError as e:
                # Moved on meanwhile (paid, cancelled, released): the read model lagged behind.
                log.info("scheduler skipped %s: %s", raw, e.detail)
        return done

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="velora-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("scheduler pass failed; trying again next interval")
