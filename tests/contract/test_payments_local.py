"""The local provider's record against the payment provider contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.payments.local import LocalPaymentProvider
from domain.money import Money
from domain.payments import PaymentProvider
from tests.contract.payments_contract import PaymentProviderContract


class TestLocalPaymentProvider(PaymentProviderContract):
    @pytest.fixture
    def provider(self, tmp_path: Path) -> PaymentProvider:
        return LocalPaymentProvider("secret", tmp_path / "local-provider.sqlite3")

    def buyer_pays(self, provider: PaymentProvider, intent_id: str, amount: Money) -> str:
        assert isinstance(provider, LocalPaymentProvider)
        return provider.charge(intent_id, amount)

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
