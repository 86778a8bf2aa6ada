"""What every application that applies a payment provider's events shares: each event is
applied to the order of its payment intent exactly once, whatever the provider repeats."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import DomainError
from domain.orders import Order
from domain.payments import PaymentIntentRef, ProviderEventReceipt, UnknownPaymentIntent
from eventstore.context import CommandContext
from services.base import ServiceApplication


class ProviderEvents(ServiceApplication):
    def _once(
        self,
        ctx: CommandContext,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        decide: Callable[[Order], tuple[str, list[Any]]],
    ) -> str:
        """Runs `decide` on the intent's order and saves its changes with a receipt whose id
        derives from the provider's event id, so a repeated delivery changes nothing."""
        ref = self.get_or_none(PaymentIntentRef.create_id(provider, intent_id))
        if not isinstance(ref, PaymentIntentRef):
            raise UnknownPaymentIntent(f"no order has payment intent {intent_id}")
        receipt_id = ProviderEventReceipt.create_id(provider, event_id)
        looked_again = False

        def apply_once() -> str:
            nonlocal looked_again
            if self.get_or_none(receipt_id) is not None:
                return "duplicate"
            order: Order = self.repository.get(ref.order_id)
            try:
                outcome, changed = decide(order)
            except DomainError:
                # A copy of this event applied by another request since this one looked at the
                # log leaves the order as it was here but its holds as they are now, and they
                # disagree. Look again once: a duplicate is then seen as one, and an error that
                # stands on fresh state is real.
                if looked_again:
                    raise
                looked_again = True
                self._log.aggregates.refresh()
                return apply_once()
            receipt = ProviderEventReceipt(
                tenant_id=order.tenant_id,
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                outcome=outcome,
            )
            self.record(ctx, receipt, order, *changed)
            return outcome

        return self.retrying(
            apply_once, "too many concurrent changes to this order; the provider will retry"
        )
