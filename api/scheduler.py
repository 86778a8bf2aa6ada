"""The scheduler: time-driven commands. It expires orders whose payment did not arrive before
their holds ran out (releasing the holds and cancelling the order)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import DomainError
from eventstore.checkout import CheckoutApplication
from eventstore.context import CommandContext
from projections.orders import OrderQueries

log = logging.getLogger("velora.scheduler")


class Scheduler:
    def __init__(
        self,
        queries: OrderQueries,
        checkout: CheckoutApplication,
        interval_s: float = 5.0,
        batch: int = 100,
    ) -> None:
        self.queries = queries
        self.checkout = checkout
        self.interval_s = interval_s
        self.batch = batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> int:
        """Expires every overdue order the read model lists; returns how many it expired."""
        now = now or datetime.now(UTC)
        expired = 0
        for order_id in self.queries.overdue(now, self.batch):
            try:
                if (
                    self.checkout.expire(
                        CommandContext.system("scheduler:expire"), UUID(order_id), now
                    )
                    is not None
                ):
                    expired += 1
            except DomainError as e:
                # Paid or cancelled meanwhile: the read model had not caught up. Nothing to do.
                log.info("order %s not expired: %s", order_id, e.detail)
        return expired

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
