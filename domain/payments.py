"""Payments: the provider port, the record that ties an intent to its order, and the receipt
that makes every provider event count once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, NotFound, Upstream
from domain.money import Money

# No amount a payment provider reports can reach this many minor units: Stripe's largest charge
# is eight digits (twelve in a few zero-decimal currencies). An amount or fee beyond it in
# either direction is not a provider's message at all, and is refused before anything is read.
PROVIDER_AMOUNT_LIMIT_MINOR = 10**12


class PaymentError(DomainError):
    """Base of the payments context's errors."""


class UnknownPaymentIntent(PaymentError, NotFound):
    title = "Unknown payment intent"


class DuplicateProviderEvent(PaymentError, Conflict):
    title = "Provider event already processed"


class ProviderRejected(PaymentError, Upstream):
    """The provider answered and said no (a bad account, a refund larger than the charge).
    Trying again with the same request will not help."""

    title = "Payment provider rejected the request"


class ProviderUnavailable(PaymentError, Upstream):
    """The provider could not be reached or failed on its side. The request may or may not have
    taken effect; repeating it with the same idempotency key is safe."""

    title = "Payment provider unavailable"


@dataclass(frozen=True)
class PaymentIntent:
    provider: str
    intent_id: str
    client_secret: str
    amount: Money


@dataclass(frozen=True)
class PayoutSource:
    """One part of a payout, paid out of the charge the money came in with (Stripe's
    `source_transaction`), so a transfer never runs ahead of the funds that back it."""

    seller_order_id: UUID
    order_id: UUID
    charge_id: str
    amount_minor: int


# The kinds of balance transaction Velora tells apart; each provider's own names map onto them.
CHARGE, REFUND, DISPUTE, TRANSFER, PAYOUT, OTHER = (
    "charge",
    "refund",
    "dispute",
    "transfer",
    "payout",
    "other",
)


@dataclass(frozen=True)
class ProviderTransaction:
    """One balance transaction of the provider, in no provider's words: what moved the balance
    Velora keeps with it, and what the provider kept of it (domain/reconciliation.py)."""

    id: str
    type: str  # CHARGE, REFUND, DISPUTE, TRANSFER, PAYOUT or OTHER
    amount_minor: int  # signed as the provider's balance moved: + in, - out
    fee_minor: int  # what the provider kept besides (negative: a fee given back)
    currency: str  # ISO 4217, upper case
    source_id: str  # the charge, refund, dispute, transfer or payout it comes from
    intent_id: str  # the payment intent a charge, refund or dispute concerns ("" if none)
    created_at: datetime


class PaymentProvider(Protocol):
    name: str
    # Whether a seller must name an account at the provider before it can be paid out.
    needs_payout_account: bool

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        """Creates (or, for a key seen before, returns again) the intent to collect `amount`."""
        ...

    def pay_out(
        self,
        *,
        destination: str | None,
        currency: str,
        sources: list[PayoutSource],
        idempotency_key: str,
    ) -> list[str]:
        """Transfers each source's amount to the seller's account `destination`, one transfer
        per source; the same key never pays twice. Returns the provider's transfer ids."""
        ...

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        """Pays `amount` of an intent back to the buyer; the same key never refunds twice.
        Returns the provider's refund id."""
        ...

    def balance_transactions(self, *, start: datetime, end: datetime) -> list[ProviderTransaction]:
        """Every balance transaction of the provider account created in [start, end), oldest
        first, of every tenant: reconciliation attributes each to its tenant."""
        ...

    def dispute_transactions(self, *, dispute_ids: Sequence[str]) -> list[ProviderTransaction]:
        """Every balance transaction of these disputes (the provider's ids), whenever created,
        oldest first: the withdrawal when a dispute opened and the reinstatement when it was
        won, weeks apart, which reconciliation matches over the dispute's life."""
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
