"""What every payment provider must say of what it did (`PaymentProvider.balance_transactions`),
held once for the local provider and for Stripe: a charge with the fee it kept, refunds and
payouts signed as the balance moved, each with the payment intent or transfer it concerns, a
repeated key recorded once, and only the period asked for; and a dispute's withdrawal and
reinstatement, in the statement and asked for by the dispute (`dispute_transactions`). A
subclass gives `provider` and says how a buyer pays at it (`buyer_pays`), how a buyer disputes
the charge and the dispute is won there, and how a seller's account is named there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.money import Money
from domain.payments import CHARGE, DISPUTE, REFUND, TRANSFER, PaymentProvider, PayoutSource

# What both test providers withdraw besides a disputed amount, and give back when it is won.
DISPUTE_FEE = 1_500


def card_fee(amount: int) -> int:
    return (amount * 29 + 500) // 1000 + 30


class PaymentProviderContract:
    @pytest.fixture
    def provider(self) -> PaymentProvider:
        raise NotImplementedError

    def buyer_pays(self, provider: PaymentProvider, intent_id: str, amount: Money) -> str:
        """The buyer pays the intent at the provider; the charge's id."""
        raise NotImplementedError

    def seller_account(self) -> str | None:
        return None

    def buyer_pays_and_disputes(
        self, provider: PaymentProvider, intent_id: str, amount: Money
    ) -> str:
        """The buyer pays the intent and disputes the charge with the card's issuer: the
        provider withdraws the amount and its dispute fee. The dispute's id."""
        raise NotImplementedError

    def dispute_won(self, provider: PaymentProvider, dispute_id: str) -> None:
        """The dispute is won: the amount and the fee come back."""
        raise NotImplementedError

    def test_a_disputes_withdrawal_and_reinstatement_are_its_transactions(
        self, provider: PaymentProvider
    ) -> None:
        start = datetime.now(UTC) - timedelta(seconds=2)
        intent = provider.create_intent(
            order_id=uuid4(), amount=Money(8_000, "USD"), idempotency_key=f"k-{uuid4()}"
        )
        dispute = self.buyer_pays_and_disputes(provider, intent.intent_id, Money(8_000, "USD"))
        [withdrawn] = provider.dispute_transactions(dispute_ids=[dispute])
        assert (withdrawn.type, withdrawn.amount_minor, withdrawn.fee_minor) == (
            DISPUTE,
            -8_000,
            DISPUTE_FEE,
        )
        assert (withdrawn.currency, withdrawn.source_id, withdrawn.intent_id) == (
            "USD",
            dispute,
            intent.intent_id,
        )
        self.dispute_won(provider, dispute)
        end = datetime.now(UTC) + timedelta(seconds=2)

        found = provider.dispute_transactions(dispute_ids=[dispute])
        seen = sorted((t.type, t.amount_minor, t.fee_minor, t.intent_id) for t in found)
        assert seen == [
            (DISPUTE, -8_000, DISPUTE_FEE, intent.intent_id),
            (DISPUTE, 8_000, -DISPUTE_FEE, intent.intent_id),
        ]
        assert [t.created_at for t in found] == sorted(t.created_at for t in found)
        # The statement of the period says the same of them.
        stated = [
            t for t in provider.balance_transactions(start=start, end=end) if t.source_id == dispute
        ]
        assert sorted(stated, key=lambda t: t.id) == sorted(found, key=lambda t: t.id)
        assert provider.dispute_transactions(dispute_ids=[]) == []

    def test_the_statement_holds_what_the_provider_did_signed_with_its_fees(
        self, provider: PaymentProvider
    ) -> None:
        start = datetime.now(UTC) - timedelta(seconds=2)
        order_id = uuid4()
        intent = provider.create_intent(
            order_id=order_id, amount=Money(10_000, "USD"), idempotency_key=f"k-{uuid4()}"
        )
        charge = self.buyer_pays(provider, intent.intent_id, Money(10_000, "USD"))
        key = f"refund-{uuid4()}"
        refund = provider.refund(
            intent_id=intent.intent_id, amount=Money(1_500, "USD"), idempotency_key=key
        )
        assert (
            provider.refund(
                intent_id=intent.intent_id, amount=Money(1_500, "USD"), idempotency_key=key
            )
            == refund
        )
        [transfer] = provider.pay_out(
            destination=self.seller_account(),
            currency="USD",
            sources=[PayoutSource(uuid4(), order_id, charge, 6_000)],
            idempotency_key=f"payout-{uuid4()}",
        )
        end = datetime.now(UTC) + timedelta(seconds=2)

        ours = {charge, refund, transfer}
        found = [
            t for t in provider.balance_transactions(start=start, end=end) if t.source_id in ours
        ]
        seen: dict[str, Any] = {
            t.source_id: (t.type, t.amount_minor, t.fee_minor, t.currency, t.intent_id)
            for t in found
        }
        assert seen == {
            charge: (CHARGE, 10_000, card_fee(10_000), "USD", intent.intent_id),
            refund: (REFUND, -1_500, 0, "USD", intent.intent_id),
            transfer: (TRANSFER, -6_000, 0, "USD", ""),
        }
        assert len(found) == 3  # the refund asked for twice is one
        assert [t.created_at for t in found] == sorted(t.created_at for t in found)
        assert all(start <= t.created_at < end for t in found)
        assert len({t.id for t in found}) == 3

        later = provider.balance_transactions(
            start=end + timedelta(hours=1), end=end + timedelta(hours=2)
        )
        assert not [t for t in later if t.source_id in ours]
