"""Reconciliation on the embedded default: SQLite, and the local provider's own record; and the
operator's `velora reconcile`, run as a real process, running a day again."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from adapters.payments.local import LocalPaymentProvider
from api.bootstrap import Container
from domain.money import Money
from domain.payments import CHARGE, DISPUTE, REFUND, ProviderTransaction
from domain.reconciliation import Reconciliation
from eventstore.integration import Translator
from eventstore.relay import Origins
from projections.scope import TenantScope
from tests.e2e.backends import VELORA, Embedded, cli_env
from tests.e2e.client import Api
from tests.e2e.dispute_scenarios import dispute_event
from tests.e2e.money_scenarios import accounts
from tests.e2e.reconciliation_scenarios import (
    DISPUTE_FEE,
    ReconciliationScenarios,
    card_fee,
    over,
)
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

    def pay_and_dispute(self, api: Api, container: Container, order: dict[str, Any]) -> str:
        self.pay_at_provider(api, container, order)
        intent, total = order["payment"]["intent_id"], order["total"]["amount"]
        dispute = f"dp_local_{uuid4().hex[:12]}"
        self.provider(container).withdraw_for_dispute(
            dispute, intent, Money(total, "USD"), DISPUTE_FEE
        )
        opened = dispute_event("charge.dispute.created", dispute, intent, total, "needs_response")
        assert self.post_event(api, container, opened).json()["outcome"] == "disputed"  # type: ignore[attr-defined]
        return dispute

    def close_dispute(
        self, api: Api, container: Container, order: dict[str, Any], dispute_id: str, won: bool
    ) -> None:
        intent, total = order["payment"]["intent_id"], order["total"]["amount"]
        if won:
            self.provider(container).reinstate_for_dispute(
                dispute_id, intent, Money(total, "USD"), DISPUTE_FEE
            )
        status = "won" if won else "lost"
        closed = dispute_event("charge.dispute.closed", dispute_id, intent, total, status)
        assert self.post_event(api, container, closed).json()["outcome"] == status  # type: ignore[attr-defined]


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

    def test_a_dispute_lost_a_month_after_it_opened_is_matched_when_it_is_lost(
        self, api: Api, root: str, container: Container
    ) -> None:
        """The provider withdrew the disputed amount and its fee when the dispute opened, a
        month before the ledger booked its loss: the opening day lists the withdrawal as a
        dispute still open, and the day of the loss matches the two, a month apart."""
        day = datetime.now(UTC).date()
        opened_on = day - timedelta(days=30)
        m = self.marketplace(api, root, f"Month{uuid4().hex[:6]}", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 10_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay_at_provider(api, container, order)
        intent, dispute = order["payment"]["intent_id"], f"dp_local_{uuid4().hex[:12]}"
        withdrawal = ProviderTransaction(
            id=f"txn_local_{uuid4().hex[:12]}",
            type=DISPUTE,
            amount_minor=-10_000,
            fee_minor=DISPUTE_FEE,
            currency="USD",
            source_id=dispute,
            intent_id=intent,
            created_at=datetime.combine(opened_on, time(15), tzinfo=UTC),
        )
        self.provider(container).record.add(withdrawal)
        opened = dispute_event("charge.dispute.created", dispute, intent, 10_000, "open")
        assert self.post_event(api, container, opened).json()["outcome"] == "disputed"

        self.reconcile(api, container, opened_on)
        then = self.reconciled(api, finance, m.tenant_id, opened_on)
        [still_open] = then["unmatched_provider"]
        assert (still_open["transaction_id"], still_open["amount"]["amount"]) == (
            withdrawal.id,
            -10_000 - DISPUTE_FEE,
        )
        assert still_open["reason"].startswith("a dispute's withdrawal the ledger has not booked")

        lost = dispute_event("charge.dispute.closed", dispute, intent, 10_000, "lost")
        assert self.post_event(api, container, lost).json()["outcome"] == "lost"
        self.reconcile(api, container, day)
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert (seen["unmatched_ledger"], seen["unmatched_provider"]) == ([], [])
        [settled] = [x for x in seen["matches"] if x["reference"] == f"dispute:{dispute}"]
        assert settled["transactions"] == [withdrawal.id]
        assert settled["days"] == [str(opened_on), str(day)]
        assert settled["amount"]["amount"] == -10_000 - DISPUTE_FEE

    def test_an_operator_reconciles_a_day_again_and_the_rerun_replaces_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        """`velora reconcile --date`, as an operator runs it: the day's summary; run again once
        the provider reports more of that day, the day's result is replaced (one row, `run`
        2), no fee is booked twice, and the day is published again under the same key."""
        # Far enough back that the scheduler running beside the API never looks at it.
        day = datetime.now(UTC).date() - timedelta(days=10)
        m = self.marketplace(api, root, f"Rerun{uuid4().hex[:6]}", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 5_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        intent, fee = order["payment"]["intent_id"], card_fee(5_000)
        # The buyer paid that day, and Velora never heard of it.
        self.at_provider(container, day, CHARGE, 5_000, fee, intent)
        container.catch_up()

        first = self.velora(container, "reconcile", "--date", str(day), "--tenant", m.tenant_id)
        assert first.returncode == 0, first.stdout + first.stderr
        assert self.line(first.stdout, m.tenant_id) == (
            f"{m.tenant_id} USD run 1: 1 matched (-{fee} USD); 1 missing in the ledger (5000 USD);"
            f" 0 missing at the provider (0 USD); processor fees {fee} USD"
        )
        api.position = container.log.head()
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert (seen["run"], len(seen["unmatched_provider"]), seen["matched"]) == (1, 1, 1)

        # A refund of that day at the provider turns up later: the day is run again, for every
        # marketplace with activity on it.
        self.at_provider(container, day, REFUND, -700, 0, intent)
        again = self.velora(container, "reconcile", "--date", str(day))
        assert again.returncode == 0, again.stdout + again.stderr
        assert self.line(again.stdout, m.tenant_id) == (
            f"{m.tenant_id} USD run 2: 1 matched (-{fee} USD); 2 missing in the ledger (4300 USD);"
            f" 0 missing at the provider (0 USD); processor fees {fee} USD"
        )
        assert self.line(again.stdout, "total USD") == (
            f"total USD: 1 matched (-{fee} USD); 2 missing in the ledger (4300 USD);"
            f" 0 missing at the provider (0 USD); processor fees {fee} USD"
        )
        api.position = container.log.head()
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert (seen["run"], len(seen["unmatched_provider"]), seen["matched"]) == (2, 2, 1)
        assert [f["fee"]["amount"] for f in seen["fees_booked"]] == [fee]  # by the first run
        assert seen["processor_fees"]["amount"] == fee
        assert accounts(api, finance, m.tenant_id)["processor:fees"] == fee  # booked once
        scope = TenantScope.only(m.tenant_id)
        assert len(container.reconciliation_queries.recorded(scope, day)) == 1

        # Published twice under the day's key: the rerun replaces the first, never adds to it.
        origins = Origins(container.log)
        translator = Translator(origins.get, origins.as_of)
        runs = [
            published
            for r in container.log.read(0, container.log.head())
            if isinstance(r.event, Reconciliation.Completed | Reconciliation.Redone)
            and str(r.event.tenant_id) == m.tenant_id
            for published in translator.translate(r)
        ]
        assert [(p.type, p.data["run"], p.data["unmatched_provider"]) for p in runs] == [
            ("reconciliation.completed", 1, 1),
            ("reconciliation.completed", 2, 2),
        ]
        assert {p.key for p in runs} == {Reconciliation.create_id(UUID(m.tenant_id), "USD", day)}
        assert [p.data["fees_booked_minor"] for p in runs] == [fee, fee]

    def at_provider(
        self, container: Container, day: date, kind: str, amount: int, fee: int, intent: str
    ) -> None:
        """A transaction of the provider's, dated `day`, written to its record directly."""
        self.provider(container).record.add(
            ProviderTransaction(
                id=f"txn_local_{uuid4().hex[:12]}",
                type=kind,
                amount_minor=amount,
                fee_minor=fee,
                currency="USD",
                source_id=f"{kind[:2]}_local_{uuid4().hex[:12]}",
                intent_id=intent,
                created_at=datetime.combine(day, time(12), tzinfo=UTC),
            )
        )

    def velora(self, container: Container, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VELORA, *args],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    @staticmethod
    def line(out: str, start: str) -> str:
        return next(line for line in out.splitlines() if line.startswith(start))

    def scope(self, shop: dict[str, Any]) -> TenantScope:
        return TenantScope.only(shop["m"].tenant_id)
