"""Reconciliation on the embedded default: SQLite, and the local provider's own record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.payments.local import LocalPaymentProvider
from api.bootstrap import Container
from domain.money import Money
from domain.reconciliation import Reconciliation
from eventstore.integration import Translator
from projections.scope import TenantScope
from tests.e2e.backends import Embedded
from tests.e2e.client import Api
from tests.e2e.reconciliation_scenarios import ReconciliationScenarios, over
from tests.e2e.shop import intent_event


class LocalProvider:
    """The local provider: the buyer pays through it, and its record is written directly for
    what Velora did not ask of it."""

    def provider(self, container: Container) -> LocalPaymentProvider:
        payments = container.checkout.payments
        assert isinstance(payments, LocalPaymentProvider)
        return payments

    def pay_at_provider(self, api: Api, container: Container, order: dict[str, Any]) -> None:
        intent, total = order["payment"]["intent_id"], order["total"]["amount"]
        charge = self.provider(container).charge(intent, Money(total, "USD"))
        event = intent_event("payment_intent.succeeded", intent, total)
        event["data"]["object"]["latest_charge"] = charge
        response = self.post_event(api, container, event)  # type: ignore[attr-defined]
        assert response.json()["outcome"] == "paid", response.text

    def pay_unheard(self, container: Container, order: dict[str, Any]) -> None:
        total = order["total"]["amount"]
        self.provider(container).charge(order["payment"]["intent_id"], Money(total, "USD"))

    def refund_behind_velora(self, container: Container, intent_id: str, amount: int) -> str:
        return self.provider(container).refund(
            intent_id=intent_id, amount=Money(amount, "USD"), idempotency_key="by-hand"
        )


class TestReconciliationEmbedded(LocalProvider, Embedded, ReconciliationScenarios):
    def test_the_scheduler_reconciles_a_day_once_the_next_is_over_and_publishes_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        day = datetime.now(UTC).date()
        shop = self.sold(api, root, container)
        container.catch_up()
        assert container.scheduler.run_once(datetime.now(UTC)) == 0  # today is not over
        # Over, but the day after is not: its movements may be the day's counterparts.
        container.scheduler.run_once(over(day) - timedelta(days=1))
        container.catch_up()
        assert container.reconciliation_queries.recorded(self.scope(shop), day) == []
        container.scheduler.run_once(over(day))
        container.catch_up()
        [seen] = container.reconciliation_queries.recorded(self.scope(shop), day)
        assert (seen["unmatched_ledger"], seen["unmatched_provider"]) == ([], [])
        head = container.log.head()
        container.scheduler.run_once(over(day) + timedelta(hours=1))  # nothing twice
        assert container.log.head() == head

        # It goes out on Kafka as `reconciliation.completed`, with the day's summary.
        made = [
            r for r in container.log.read(0, head) if isinstance(r.event, Reconciliation.Completed)
        ]
        assert len(made) == 1
        translator = Translator(lambda _: None, lambda _i, _v: None)
        [published] = translator.translate(made[0])
        assert (published.type, published.kind) == ("reconciliation.completed", "ledger")
        assert published.data["matched"] == 5
        assert published.data["unmatched_provider"] == published.data["unmatched_ledger"] == 0
        assert published.data["date"] == str(day)
        assert isinstance(container.reconciliation.get_or_none(published.key), Reconciliation)

    def scope(self, shop: dict[str, Any]) -> TenantScope:
        return TenantScope.only(shop["m"].tenant_id)
