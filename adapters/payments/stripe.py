"""The Stripe payment provider, through Stripe's official SDK.

Separate charges and transfers: the buyer pays the platform one PaymentIntent per order (its
`transfer_group` is the order id), and sellers are paid later by Connect transfers, each tied to
the charge that brought the money in (`source_transaction`). Every call carries an idempotency
key derived from the Velora command behind it, so a retried command reaches Stripe as the same
request and has one effect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import stripe

from domain.money import Money
from domain.payments import (
    CHARGE,
    DISPUTE,
    OTHER,
    PAYOUT,
    REFUND,
    TRANSFER,
    PaymentIntent,
    PayoutSource,
    ProviderRejected,
    ProviderTransaction,
    ProviderUnavailable,
)

T = TypeVar("T")

# Stripe's balance transaction types, in Velora's words. A dispute's withdrawal and reinstatement
# are adjustments whose source is the dispute (dp_, or du_ for some payment methods).
_TYPES = {
    "charge": CHARGE,
    "payment": CHARGE,
    "refund": REFUND,
    "payment_refund": REFUND,
    "transfer": TRANSFER,
    "payout": PAYOUT,
}
_DISPUTES = ("dp_", "du_")

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

    def balance_transactions(self, *, start: datetime, end: datetime) -> list[ProviderTransaction]:
        """The account's balance transactions created in [start, end), through every page, with
        their sources expanded: a charge's, refund's or dispute's payment intent is read from
        it (a refund made by charge, without its intent, from its charge)."""
        listed = _call(
            lambda: self._client.v1.balance_transactions.list(
                params={
                    "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
                    "limit": 100,
                    "expand": ["data.source"],
                }
            )
        )
        found = [self._neutral(txn) for txn in _call(lambda: list(listed.auto_paging_iter()))]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    def dispute_transactions(self, *, dispute_ids: Sequence[str]) -> list[ProviderTransaction]:
        """Each dispute's `balance_transactions` (its withdrawal, and its reinstatement once
        won), as the Dispute holds them, with the dispute's payment intent."""
        found = []
        for dispute_id in dispute_ids:
            dispute = self._dispute(dispute_id)
            intent = _id_of(dispute.payment_intent)
            found += [self._neutral(txn, intent) for txn in dispute.balance_transactions or []]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    def _dispute(self, dispute_id: str) -> Any:
        return _call(lambda: self._client.v1.disputes.retrieve(dispute_id))

    def _neutral(self, txn: Any, intent: str = "") -> ProviderTransaction:
        """The transaction in the port's words; `intent`, when known, the one it concerns
        (else read from its expanded source)."""
        source = txn.source
        source_id = _id_of(source)
        kind = _kind(txn, source_id)
        if (
            not intent
            and kind in (CHARGE, REFUND, DISPUTE)
            and not isinstance(source, str)
            and source
        ):
            intent = _id_of(getattr(source, "payment_intent", None))
            charge = _id_of(getattr(source, "charge", None))
            if not intent and charge:
                held = _call(lambda: self._client.v1.charges.retrieve(charge))
                intent = _id_of(held.payment_intent)
        return ProviderTransaction(
            id=txn.id,
            type=kind,
            amount_minor=txn.amount,
            fee_minor=txn.fee,
            currency=txn.currency.upper(),
            source_id=source_id,
            intent_id=intent,
            created_at=datetime.fromtimestamp(txn.created, UTC),
        )


def _kind(txn: Any, source_id: str) -> str:
    if txn.type == "adjustment" and source_id.startswith(_DISPUTES):
        return DISPUTE
    return _TYPES.get(txn.type, OTHER)


def _id_of(value: Any) -> str:
    """An id Stripe sends as itself or, expanded, inside its object."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value.id)


def _call(request: Callable[[], T]) -> T:
    """Runs one SDK request, turning Stripe's errors into the port's two kinds."""
    try:
        return request()
    except _TRANSIENT as e:
        raise ProviderUnavailable(f"Stripe did not answer: {e.user_message or e}") from e
    except stripe.StripeError as e:
        raise ProviderRejected(f"Stripe refused: {e.user_message or e}") from e
