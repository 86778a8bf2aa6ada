"""The Stripe payment provider, through Stripe's official SDK.

Separate charges and transfers: the buyer pays the platform one PaymentIntent per order (its
`transfer_group` is the order id), and sellers are paid later by Connect transfers, each tied to
the charge that brought the money in (`source_transaction`). Every call carries an idempotency
key derived from the Velora command behind it, so a retried command reaches Stripe as the same
request and has one effect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import stripe

from domain.money import Money
from domain.payments import (
    PaymentIntent,
    PayoutSource,
    ProviderRejected,
    ProviderUnavailable,
)

T = TypeVar("T")

# Failures on Stripe's side or on the way there: the request may be repeated with its key.
_TRANSIENT: tuple[type[stripe.StripeError], ...] = (
    stripe.APIConnectionError,
    stripe.RateLimitError,
    stripe.APIError,
)


class StripeProvider:
    name = "stripe"
    needs_payout_account = True

    def __init__(self, api_key: str, api_base: str | None = None, max_retries: int = 2) -> None:
        addresses: dict[str, str] = {"api": api_base} if api_base else {}
        self._client = stripe.StripeClient(
            api_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            max_network_retries=max_retries,
        )

    def create_intent(
        self, *, order_id: UUID, amount: Money, idempotency_key: str
    ) -> PaymentIntent:
        intent = _call(
            lambda: self._client.v1.payment_intents.create(
                params={
                    "amount": amount.amount_minor,
                    "currency": amount.currency.lower(),
                    "transfer_group": str(order_id),
                    "metadata": {"velora_order_id": str(order_id)},
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return PaymentIntent(
            self.name,
            intent.id,
            intent.client_secret or "",
            Money(intent.amount, intent.currency.upper()),
        )

    def refund(self, *, intent_id: str, amount: Money, idempotency_key: str) -> str:
        refund = _call(
            lambda: self._client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": amount.amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        )
        return refund.id

    def pay_out(
        self,
        *,
        destination: str | None,
        currency: str,
        sources: list[PayoutSource],
        idempotency_key: str,
    ) -> list[str]:
        if not destination:
            raise ProviderRejected("the seller has no Stripe account to pay out to")
        return [
            self._transfer(destination, currency, source, f"{idempotency_key}-{i}")
            for i, source in enumerate(sources)
        ]

    def _transfer(
        self, destination: str, currency: str, source: PayoutSource, idempotency_key: str
    ) -> str:
        params: dict[str, Any] = {
            "amount": source.amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": str(source.order_id),
        }
        if source.charge_id:  # tied to the charge, so it waits for the charge's funds
            params["source_transaction"] = source.charge_id
        transfer = _call(
            lambda: self._client.v1.transfers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            )
        )
        return transfer.id


def _call(request: Callable[[], T]) -> T:
    """Runs one SDK request, turning Stripe's errors into the port's two kinds."""
    try:
        return request()
    except _TRANSIENT as e:
        raise ProviderUnavailable(f"Stripe did not answer: {e.user_message or e}") from e
    except stripe.StripeError as e:
        raise ProviderRejected(f"Stripe refused: {e.user_message or e}") from e
