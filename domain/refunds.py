"""Refunds (RMA): a buyer or an admin asks for money back on a seller order; its seller or an
admin approves or rejects. Approved refunds are paid back through the payment provider."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.seller_orders import SellerOrder
from domain.settlement import RefundPlan


class RefundError(DomainError):
    """Base of the refunds context's errors."""


class RefundNotFound(RefundError, NotFound):
    title = "Refund not found"


class WrongRefundStep(RefundError, Conflict):
    title = "Wrong refund step"


class InvalidRefund(RefundError, Invalid):
    title = "Invalid refund"


class Refund(TenantAggregate):
    class Requested(TenantAggregate.Created):
        seller_order_id: UUID
        order_id: UUID
        buyer_id: UUID
        seller_id: UUID
        amount_minor: int
        currency: str
        reason: str

    class Approved(TenantAggregate.Event):
        provider_refund_id: str
        commission_reversed_minor: int
        from_escrow: bool

    class Rejected(TenantAggregate.Event):
        reason: str

    @classmethod
    def of(cls, so: SellerOrder, amount_minor: int, reason: str) -> Refund:
        """A refund of `amount_minor` of the seller order, for its buyer."""
        return cls(
            tenant_id=so.tenant_id,
            seller_order_id=so.id,
            order_id=so.order_id,
            buyer_id=so.buyer_id,
            seller_id=so.seller_id,
            amount_minor=amount_minor,
            currency=so.currency,
            reason=reason,
        )

    @event(Requested)
    def __init__(
        self,
        tenant_id: UUID,
        seller_order_id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        seller_id: UUID,
        amount_minor: int,
        currency: str,
        reason: str,
    ) -> None:
        self.tenant_id = tenant_id
        self.seller_order_id = seller_order_id
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.amount_minor = amount_minor
        self.currency = currency
        self.reason = reason
        self.status = "requested"

    @staticmethod
    def check_reason(reason: str) -> str:
        reason = reason.strip()
        if not 1 <= len(reason) <= 1000:
            raise InvalidRefund("a refund needs a reason of 1 to 1000 characters")
        return reason

    def approve(self, provider_refund_id: str, plan: RefundPlan) -> None:
        self._require_requested("approve")
        self._approved(
            provider_refund_id=provider_refund_id,
            commission_reversed_minor=plan.commission_reversed_minor,
            from_escrow=plan.from_escrow,
        )

    def reject(self, reason: str) -> None:
        self._require_requested("reject")
        self._rejected(reason=reason.strip()[:1000])

    def _require_requested(self, command: str) -> None:
        if self.status != "requested":
            raise WrongRefundStep(f"cannot {command} a refund that is {self.status}")

    @event(Approved)
    def _approved(
        self, provider_refund_id: str, commission_reversed_minor: int, from_escrow: bool
    ) -> None:
        self.status = "approved"
        self.provider_refund_id = provider_refund_id

    @event(Rejected)
    def _rejected(self, reason: str) -> None:
        self.status = "rejected"
