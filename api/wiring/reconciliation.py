"""Reconciliation with the payment provider: the application that matches a day's statement to
the ledger and books the provider's fees, the scheduler's runs of it, and its read side. It asks
the provider checkout charges with."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.orders import OrderParts
from api.wiring.platform import Wiring
from projections.reconciliation.projector import ReconciliationProjector
from projections.reconciliation.queries import ReconciliationQueries
from services.reconciliation import ReconciliationApplication, ReconciliationRuns


@dataclass
class ReconciliationParts:
    reconciliation: ReconciliationApplication
    reconciliation_queries: ReconciliationQueries
    reconciliation_runs: ReconciliationRuns


def wire_reconciliation(wiring: Wiring, orders: OrderParts) -> ReconciliationParts:
    wiring.project(ReconciliationProjector())
    queries = ReconciliationQueries(wiring.read_store)
    application = ReconciliationApplication(
        wiring.log,
        orders.checkout.payments,
        queries,
        wiring.read_store,
        on_recorded=wiring.recorded,
    )
    return ReconciliationParts(
        reconciliation=application,
        reconciliation_queries=queries,
        reconciliation_runs=ReconciliationRuns(application, queries),
    )
