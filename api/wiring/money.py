"""Money after checkout: the ledger's read side, refunds, disputes, returns, payouts and the
payout runs, and the secret the payment provider signs its webhooks with. They pay through the
provider checkout charges with."""

from __future__ import annotations

from dataclasses import dataclass

from api.wiring.accounts import AccountParts
from api.wiring.catalog import CatalogParts
from api.wiring.orders import OrderParts
from api.wiring.platform import Wiring
from projections.ledger.projector import LedgerProjector
from projections.ledger.queries import LedgerQueries
from services.disputes import DisputeApplication
from services.payout_runs import PayoutRuns
from services.payouts import PayoutApplication
from services.refunds import RefundApplication
from services.returns import ReturnApplication


@dataclass
class MoneyParts:
    ledger_queries: LedgerQueries
    refunds: RefundApplication
    disputes: DisputeApplication
    returns: ReturnApplication
    payouts: PayoutApplication
    payout_runs: PayoutRuns
    webhook_secret: str


def wire_money(
    wiring: Wiring, orders: OrderParts, accounts: AccountParts, catalog: CatalogParts
) -> MoneyParts:
    log, recorded = wiring.log, wiring.recorded
    wiring.project(LedgerProjector())
    payments = orders.checkout.payments
    ledger_queries = LedgerQueries(wiring.read_store)
    payouts = PayoutApplication(log, payments, on_recorded=recorded)
    webhook_secret = wiring.settings.webhook_secret() or wiring.tokens.secret_for("stripe-webhook")
    return MoneyParts(
        ledger_queries=ledger_queries,
        refunds=RefundApplication(log, payments, on_recorded=recorded),
        disputes=DisputeApplication(log, on_recorded=recorded),
        returns=ReturnApplication(log, payments, on_recorded=recorded),
        payouts=payouts,
        payout_runs=PayoutRuns(
            log,
            wiring.read_store,
            payouts,
            accounts.identity_queries,
            catalog.catalog_queries,
            orders.order_queries,
            ledger_queries,
            accounts.identity,
        ),
        webhook_secret=webhook_secret,
    )
