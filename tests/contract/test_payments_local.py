"""The local provider's record against the payment provider contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from adapters.payments.local import LocalPaymentProvider
from domain.money import Money
from domain.payments import PaymentProvider
from tests.contract.payments_contract import DISPUTE_FEE, PaymentProviderContract


class TestLocalPaymentProvider(PaymentProviderContract):
    @pytest.fixture
    def provider(self, tmp_path: Path) -> PaymentProvider:
        return LocalPaymentProvider("secret", tmp_path / "local-provider.sqlite3")

    def buyer_pays(self, provider: PaymentProvider, intent_id: str, amount: Money) -> str:
        assert isinstance(provider, LocalPaymentProvider)
        return provider.charge(intent_id, amount)

    def buyer_pays_and_disputes(
        self, provider: PaymentProvider, intent_id: str, amount: Money
    ) -> str:
        assert isinstance(provider, LocalPaymentProvider)
        provider.charge(intent_id, amount)
        dispute = f"dp_local_{uuid4().hex[:12]}"
        provider.withdraw_for_dispute(dispute, intent_id, amount, DISPUTE_FEE)
        self.disputed = (intent_id, amount)
        return dispute

    def dispute_won(self, provider: PaymentProvider, dispute_id: str) -> None:
        assert isinstance(provider, LocalPaymentProvider)
        intent_id, amount = self.disputed
        provider.reinstate_for_dispute(dispute_id, intent_id, amount, DISPUTE_FEE)
        provider.reinstate_for_dispute(dispute_id, intent_id, amount, DISPUTE_FEE)  # once

    def test_the_record_outlives_the_process_and_a_charge_is_once_per_intent(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "local-provider.sqlite3"
        first = LocalPaymentProvider("secret", path)
        assert first.charge("pi_1", Money(500, "USD")) == first.charge("pi_1", Money(500, "USD"))
        again = LocalPaymentProvider("secret", path)  # another process of the deployment
        now = datetime.now(UTC)
        [charge] = again.balance_transactions(
            start=now - timedelta(minutes=1), end=now + timedelta(minutes=1)
        )
        assert (charge.intent_id, charge.amount_minor, charge.fee_minor) == ("pi_1", 500, 45)
