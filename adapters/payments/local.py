"""The local payment provider, the embedded default's: it needs no network, and its intents are
moved on by the same signed webhook a real provider would send."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from domain.money import Money
from domain.payments import PaymentIntent, PayoutSource


def _stable_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:24]


class LocalPaymentProvider:
    name = "local"
    needs_payout_account = False

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        # Derived from the key alone, so asking twice gives the same intent, as with Stripe.
        intent_id = _stable_id("pi_local_", idempotency_key)
        signature = hmac.new(self._secret, intent_id.encode(), hashlib.sha256).hexdigest()[:24]
        return PaymentIntent(self.name, intent_id, f"{intent_id}_secret_{signature}", amount)

    def pay_out(
        self,
        *,
        destination: str | None,
        currency: str,
        sources: list[PayoutSource],
        idempotency_key: str,
    ) -> list[str]:
        # The embedded default pays out at once; the ledger records it, the ids are stable.
        return [_stable_id("tr_local_", f"{idempotency_key}-{i}") for i in range(len(sources))]

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        # No money moves outside Velora here: the ledger records the refund; the id is stable.
        return _stable_id("re_local_", idempotency_key)
