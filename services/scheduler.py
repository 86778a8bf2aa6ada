"""The scheduler: time-driven commands. It expires orders whose payment did not arrive before
their stock holds ran out (releasing the holds and cancelling the order), releases escrow to
sellers once their tenant's release delay after delivery has passed, ends features whose
time has run out and promotions past their end (freeing their codes), charges sellers'
plans for each month as it begins, runs the payouts that tenants have scheduled, once per
period, and reconciles each UTC day with the payment provider once it is over. Less often it
does the housekeeping: chores that delete what has outlived its use (expired idempotency
keys, say)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from uuid import UUID

from domain.errors import DomainError
from eventstore.context import CommandContext
from projections.catalog.queries import CatalogQueries
from projections.orders.queries import OrderQueries
from projections.promotions.queries import PromotionQueries
from services.catalog import CatalogApplication
from services.checkout import CheckoutApplication
from services.fulfilment import FulfilmentApplication
from services.payout_runs import PayoutRuns
from services.promotions import PromotionsApplication
from services.reconciliation import ReconciliationRuns
from services.sellers import SellerApplication

log = logging.getLogger("velora.scheduler")

# A housekeeping chore: deletes what is no longer needed as of `now`, and says how many rows.
Chore = Callable[[datetime], int]


class Scheduler:
    def __init__(
        self,
        queries: OrderQueries,
        checkout: CheckoutApplication,
        fulfilment: FulfilmentApplication,
        catalog: CatalogApplication,
        catalog_queries: CatalogQueries,
        sellers: SellerApplication,
        payout_runs: PayoutRuns,
        reconciliation_runs: ReconciliationRuns,
        promotions: PromotionsApplication,
        promotion_queries: PromotionQueries,
        interval_s: float = 5.0,
        batch: int = 100,
        *,
        chores: Mapping[str, Chore] | None = None,
        housekeeping_every_s: float = 3600.0,
    ) -> None:
        self.queries = queries
        self.checkout = checkout
        self.fulfilment = fulfilment
        self.catalog = catalog
        self.catalog_queries = catalog_queries
        self.sellers = sellers
        self.payout_runs = payout_runs
        self.reconciliation_runs = reconciliation_runs
        self.promotions = promotions
        self.promotion_queries = promotion_queries
        self.interval_s = interval_s
        self.batch = batch
        self.chores = dict(chores or {})
        self.housekeeping_every_s = housekeeping_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> int:
        """One pass: expires overdue unpaid orders, releases escrow that has fallen due, ends
        features that ran out and promotions past their end, renews plans whose month began,
        runs the scheduled payouts that fell due and reconciles the days that are over.
        Returns how many it moved on (a tenant's payout run counts one, and so does a tenant's
        day reconciled)."""
        now = now or datetime.now(UTC)

        def expire(order_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:expire")
            return self.checkout.expire(ctx, order_id, now) is not None

        def release(seller_order_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:release")
            self.fulfilment.release_escrow(ctx, seller_order_id, now)
            return True

        def unfeature(product_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:unfeature")
            return self.catalog.expire_feature(ctx, product_id, now) is not None

        def end_promotion(promotion_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:end-promotion")
            self.promotions.end(ctx, promotion_id, None, acting_seller=None, now=now)
            return True

        def renew(seller_id: UUID) -> bool:
            ctx = CommandContext.system("scheduler:renew-plan")
            return self.sellers.renew_plan(ctx, seller_id, now) > 0

        return (
            self._each(self.queries.overdue(now, self.batch), expire)
            + self._each(self.queries.escrow_due(now, self.batch), release)
            + self._each(self.catalog_queries.featured_due(now, self.batch), unfeature)
            + self._each(self.catalog_queries.plans_due(now, self.batch), renew)
            + self._each(self.promotion_queries.past_end(now, self.batch), end_promotion)
            + len(self.payout_runs.run_scheduled(now))
            + len(self.reconciliation_runs.run_due(now))
        )

    def housekeep(self, now: datetime | None = None) -> dict[str, int]:
        """Runs every chore once; returns how many rows each deleted. A chore that fails is
        logged and left for the next time: the others still run."""
        now = now or datetime.now(UTC)
        done = {}
        for name, chore in self.chores.items():
            try:
                done[name] = chore(now)
            except Exception:
                log.exception("housekeeping %s failed; trying again next time", name)
        log.info("housekeeping deleted %s", done)
        return done

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
        housekeeping_due = time.monotonic()
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("scheduler pass failed; trying again next interval")
            if time.monotonic() >= housekeeping_due:
                self.housekeep()
                housekeeping_due = time.monotonic() + self.housekeeping_every_s
