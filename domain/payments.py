"""The payment-provider port: how an application asks for money without knowing who collects it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.money import Money


@dataclass(frozen=True)
class PaymentIntent:
    provider: str
    intent_id: str
    client_secret: str
    amount: Money


class PaymentProvider(Protocol):
    name: str

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        """Creates (or, for a key seen before, returns again) the intent to collect `amount`."""
        ...
