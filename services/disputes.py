"""The disputes application: a payment provider's dispute events (chargebacks) applied to the
order they concern, exactly once, with the money they reserve, give back or take out recorded in
the ledger in the same save. What each event means, and whether the charge can explain it at
all, is the domain's (domain/disputes.py): this loads, calls and saves."""

from __future__ import annotations

from typing import Any

from domain import disputes
from domain.disputes import ChargeDisputes, Dispute, DisputeOutcome, DisputeReport, FeePayer
from domain.identity import Tenant
from domain.orders import Order
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement
from eventstore.application import command
from eventstore.books import Books
from eventstore.context import CommandContext
from services.provider_events import ProviderEvents
from services.settlements import settlement_of


class DisputeApplication(ProviderEvents):
    name = "disputes"

    @command
    def open_dispute(
        self,
        ctx: CommandContext,
        *,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        dispute_id: str,
        amount_minor: int,
        currency: str,
        reason: str,
    ) -> str:
        """A dispute opened: its amount is reserved of the order's seller orders and the order is
        flagged for review. `disputed`; `known` if the dispute was recorded already (opened, or
        closed by an event that came first); `flagged` if the order's charge cannot explain it
        (another currency, an order never paid, more than was charged), with nothing booked."""
        report = DisputeReport(provider, dispute_id, amount_minor, currency, reason)

        def decide(order: Order) -> tuple[str, list[Any]]:
            if self.get_or_none(Dispute.create_id(provider, dispute_id)) is not None:
                return DisputeOutcome.KNOWN.value, []
            charge, parts = self._charge(order), self._paid_parts(order)
            settlements = [s for _, s in parts]
            books = Books(self.repository, order.tenant_id, order.currency)
            dispute = disputes.open_dispute(order, charge, settlements, books, report)
            if dispute is None:
                return DisputeOutcome.FLAGGED.value, []
            changed = [dispute, charge, *settlements, *books.changed()]
            return DisputeOutcome.DISPUTED.value, changed

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

    @command
    def close_dispute(
        self,
        ctx: CommandContext,
        *,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        dispute_id: str,
        amount_minor: int,
        currency: str,
        reason: str,
        won: bool,
        fee_minor: int,
    ) -> str:
        """A dispute closed: won, its reserves go back; lost, the reserved amounts and the fee leave
        (the fee borne as the tenant's policy says). A dispute not seen opened yet is opened and
        closed in one step. `won`, `lost`; `known` if it was closed already; `flagged` if the
        charge cannot explain it (as when opening, or a fee larger than the charge), with
        nothing booked and the dispute left as it was."""
        report = DisputeReport(provider, dispute_id, amount_minor, currency, reason)

        def decide(order: Order) -> tuple[str, list[Any]]:
            dispute = self.get_or_none(Dispute.create_id(provider, dispute_id))
            if dispute is not None and dispute.closed:
                return DisputeOutcome.KNOWN.value, []
            charge, parts = self._charge(order), self._paid_parts(order)
            books = Books(self.repository, order.tenant_id, order.currency)
            tenant: Tenant = self.repository.get(order.tenant_id)
            closed = disputes.close_dispute(
                order,
                charge,
                dispute,
                parts,
                books,
                report,
                won=won,
                fee_minor=fee_minor,
                fee_payer=FeePayer(tenant.dispute_fee_payer),
            )
            if closed is None:
                return DisputeOutcome.FLAGGED.value, []
            outcome = DisputeOutcome.WON if won else DisputeOutcome.LOST
            changed = [closed, charge, *(a for part in parts for a in part), *books.changed()]
            return outcome.value, changed

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

    def _charge(self, order: Order) -> ChargeDisputes:
        """The disputes of the order's charge so far (none yet: a new, empty record)."""
        charge = self.get_or_none(ChargeDisputes.create_id(order.id))
        if isinstance(charge, ChargeDisputes):
            return charge
        return ChargeDisputes(tenant_id=order.tenant_id, order_id=order.id)

    def _paid_parts(self, order: Order) -> list[tuple[SellerOrder, Settlement]]:
        """The order's seller orders that were paid, each with its settlement."""
        parts = []
        for so_id in order.seller_order_ids:
            so: SellerOrder = self.repository.get(so_id)
            settlement = settlement_of(self, so)
            if settlement is not None:
                parts.append((so, settlement))
        return parts
