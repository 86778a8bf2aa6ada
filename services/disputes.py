"""The disputes application: a payment provider's dispute events (chargebacks) applied to the
order they concern, exactly once, with the money they hold, give back or take out recorded in
the ledger in the same save (domain/disputes.py, domain/escrow.py)."""

from __future__ import annotations

from typing import Any

from domain import escrow
from domain.disputes import Dispute, FeePayer, share_out
from domain.identity import Tenant
from domain.ledger import Chart
from domain.orders import Order, SellerOrder
from eventstore.application import command
from eventstore.books import Books
from eventstore.context import CommandContext
from services.provider_events import ProviderEvents


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
        """A dispute opened: its amount is held of the order's seller orders and the order is
        flagged for review. `disputed`; `known` if the dispute was recorded already (opened, or
        closed by an event that came first); `flagged` if it is not in the order's currency."""

        def decide(order: Order) -> tuple[str, list[Any]]:
            if self.get_or_none(Dispute.create_id(provider, dispute_id)) is not None:
                return "known", []
            if currency.upper() != order.currency:
                return self._foreign(order, currency)
            books = Books(self.repository, order.tenant_id, order.currency)
            dispute, seller_orders = self._opened(
                order, books, provider, dispute_id, amount_minor, reason
            )
            return "disputed", [dispute, *seller_orders, *books.changed()]

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
        """A dispute closed: won, its holds go back; lost, the held amounts and the fee leave
        (the fee borne as the tenant's policy says). A dispute not seen opened yet is opened and
        closed in one step. `won`, `lost`; `known` if it was closed already."""

        def decide(order: Order) -> tuple[str, list[Any]]:
            if currency.upper() != order.currency:
                return self._foreign(order, currency)
            books = Books(self.repository, order.tenant_id, order.currency)
            dispute = self.get_or_none(Dispute.create_id(provider, dispute_id))
            if dispute is None:
                dispute, seller_orders = self._opened(
                    order, books, provider, dispute_id, amount_minor, reason
                )
            elif dispute.closed:
                return "known", []
            else:
                seller_orders = [self.repository.get(i) for i in order.seller_order_ids]
            tenant: Tenant = self.repository.get(order.tenant_id)
            fees = dispute.close(
                won=won, fee_minor=fee_minor, fee_payer=FeePayer(tenant.dispute_fee_payer)
            )
            for so in seller_orders:
                if str(so.id) not in dispute.shares:
                    continue
                fee = fees.get(so.id, 0)
                hold, generation_before = so.close_dispute(dispute.id, won=won, fee_minor=fee)
                if won:
                    escrow.release_dispute(books, so, hold)
                else:
                    escrow.lose_dispute(books, so, hold, generation_before, fee)
            escrow.platform_dispute_loss(books, dispute.id, dispute.platform_loss_minor)
            return ("won" if won else "lost"), [dispute, *seller_orders, *books.changed()]

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

    def _opened(
        self,
        order: Order,
        books: Books,
        provider: str,
        dispute_id: str,
        amount_minor: int,
        reason: str,
    ) -> tuple[Dispute, list[SellerOrder]]:
        """Opens the dispute: split over the seller orders pro rata to what each still holds,
        each share held, the order flagged for review."""
        seller_orders: list[SellerOrder] = [self.repository.get(i) for i in order.seller_order_ids]
        shares = share_out(amount_minor, [(so.id, so.disputable_minor) for so in seller_orders])
        dispute = Dispute.open(
            tenant_id=order.tenant_id,
            provider=provider,
            provider_dispute_id=dispute_id,
            order_id=order.id,
            currency=order.currency,
            amount_minor=amount_minor,
            reason=reason,
            shares=shares,
        )
        for so in seller_orders:
            if shares.get(so.id):
                payable = books.spendable(Chart.seller_payable(so.seller_id))
                hold = so.open_dispute(dispute.id, shares[so.id], payable)
                escrow.hold_dispute(books, so, hold)
        order.flag_for_review("the buyer disputed the charge")
        return dispute, seller_orders

    @staticmethod
    def _foreign(order: Order, currency: str) -> tuple[str, list[Any]]:
        """A dispute in another currency than the order's cannot be held: a person looks."""
        order.flag_for_review(f"a dispute in {currency.upper()} of an order in {order.currency}")
        return "flagged", []
