"""Payments: the provider port, the record that ties an intent to its order, and the receipt
that makes every provider event count once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, NotFound
from domain.money import Money


class PaymentError(DomainError):
    """Base of the payments context's errors."""


class UnknownPaymentIntent(PaymentError, NotFound):
    title = "Unknown payment intent"


class DuplicateProviderEvent(PaymentError, Conflict):
    title = "Provider event already processed"


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

    def pay_out(self, *, seller_id: UUID, amount: Money, idempotency_key: str) -> str:
        """Transfers `amount` to the seller; the same key never pays twice. Returns the
        provider's transfer id."""
        ...

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        """Pays `amount` of an intent back to the buyer; the same key never refunds twice.
        Returns the provider's refund id."""
        ...


class PaymentIntentRef(TenantAggregate):
    """Which order a provider's payment intent belongs to, so its events find their order."""

    class Recorded(TenantAggregate.Created):
        provider: str
        intent_id: str
        order_id: UUID

    @staticmethod
    def create_id(provider: str, intent_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:payment-intent:{provider}:{intent_id}")

    @event(Recorded)
    def __init__(self, tenant_id: UUID, provider: str, intent_id: str, order_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.provider = provider
        self.intent_id = intent_id
        self.order_id = order_id


class ProviderEventReceipt(TenantAggregate):
    """A provider event that was processed. Its id derives from the provider's event id and it
    is saved with the event's effects, so a repeated delivery collides and changes nothing."""

    class Received(TenantAggregate.Created):
        provider: str
        event_id: str
        event_type: str
        outcome: str

    @staticmethod
    def create_id(provider: str, event_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:provider-event:{provider}:{event_id}")

    @event(Received)
    def __init__(
        self, tenant_id: UUID, provider: str, event_id: str, event_type: str, outcome: str
    ) -> None:
        self.tenant_id = tenant_id
        self.provider = provider
        self.event_id = event_id
        self.event_type = event_type
        self.outcome = outcome
