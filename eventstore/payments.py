"""Payment providers. The local provider serves the embedded default: it needs no network, and
its intents are moved on by the same signed webhook a real provider would send."""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from domain.money import Money
from domain.payments import PaymentIntent


class LocalPaymentProvider:
    name = "local"

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        # Derived from the key alone, so asking twice gives the same intent, as with Stripe.
        intent_id = "pi_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        signature = hmac.new(self._secret, intent_id.encode(), hashlib.sha256).hexdigest()[:24]
        return PaymentIntent(self.name, intent_id, f"{intent_id}_secret_{signature}", amount)

    def pay_out(self, *, seller_id: UUID, amount: Money, idempotency_key: str) -> str:
        # The embedded default pays out at once; the ledger records it, the id is stable.
        return "tr_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        # No money moves outside Velora here: the ledger records the refund; the id is stable.
        return "re_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
