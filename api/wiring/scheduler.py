"""The scheduler: the time-driven commands of the other contexts, and the housekeeping chores
that delete what has outlived its use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from api.wiring.catalog import CatalogParts
from api.wiring.guards import GuardParts
from api.wiring.money import MoneyParts
from api.wiring.orders import OrderParts
from api.wiring.platform import Wiring
from api.wiring.reconciliation import ReconciliationParts
from projections.notifications.consumer import forget_consumed
from projections.webhooks.dispatch import forget_settled
from services.scheduler import Chore, Scheduler


@dataclass
class SchedulerParts:
    scheduler: Scheduler


def wire_scheduler(
    wiring: Wiring,
    guards: GuardParts,
    orders: OrderParts,
    catalog: CatalogParts,
    money: MoneyParts,
    reconciliation: ReconciliationParts,
) -> SchedulerParts:
    store = wiring.read_store
    consumed_retention = timedelta(days=wiring.settings.consumed_retention_days)

    def forget_consumed_events(now: datetime) -> int:
        return forget_consumed(store, now - consumed_retention)

    delivery_log_retention = timedelta(days=wiring.settings.webhooks_log_retention_days)

    def forget_settled_deliveries(now: datetime) -> int:
        return forget_settled(store, now - delivery_log_retention)

    chores: dict[str, Chore] = {
        "idempotency_keys": guards.idempotency.purge_expired,
        "consumed_events": forget_consumed_events,
        "webhook_deliveries": forget_settled_deliveries,
    }
    return SchedulerParts(
        scheduler=Scheduler(
            orders.order_queries,
            orders.checkout,
            orders.fulfilment,
            catalog.catalog,
            catalog.catalog_queries,
            catalog.sellers,
            money.payout_runs,
            reconciliation.reconciliation_runs,
            orders.promotions,
            orders.promotion_queries,
            chores=chores,
        )
    )
