"""A settlement's refunds (domain/settlement.py): asked for, decided, and what each takes.

A refund is asked for first (`request_refund`): until it is decided its amount cannot be asked
for again, and its tax is set aside, a return's lines' own tax where the caller knows it, else
the tax still refundable in proportion. Approved (`refund`), it comes out of escrow while escrow
holds the money, and is charged to the seller's receivable once escrow has released it (the
ledger legs are domain/escrow.py's); commission is reversed pro rata to what is left, rounded
half to even, and what the platform funded of the goods goes back with them. A lost dispute
(domain/settlement_disputes.py) takes its share as a refund would (`_taken`).

A mixin of `Settlement`, which records the events: the methods that apply them stay nested
beside them in domain/settlement.py, under the topics they are stored under."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from uuid import UUID

from domain.settlement_figures import SettlementFigures
from domain.settlement_values import (
    EscrowStatus,
    NotRefundable,
    RefundPlan,
    RefundTooLarge,
    WrongSettlementStep,
    pro_rata,
    tax_share,
)
from domain.tax import TaxParts, parts_minus, parts_plus, parts_total


class SettlementRefunds(SettlementFigures):
    """The refunds of a settlement (see the module's docstring): a mixin of `Settlement`."""

    escrow_net_minor: int
    escrow_commission_minor: int
    escrow_generation: int
    requested_tax: dict[str, TaxParts] | None
    requested_platform: dict[str, int] | None

    if TYPE_CHECKING:  # Settlement's, beside the events they record

        def _refund_requested(
            self,
            refund_id: UUID,
            amount_minor: int,
            tax_parts: TaxParts,
            platform_minor: int | None,
        ) -> None: ...

        def _refund_rejected(self, refund_id: UUID) -> None: ...

        def _refunded(
            self,
            refund_id: UUID,
            amount_minor: int,
            commission_reversed_minor: int,
            from_escrow: bool,
            tax_parts: TaxParts,
            platform_minor: int,
        ) -> None: ...

    def request_refund(
        self,
        refund_id: UUID,
        amount_minor: int | None,
        tax: TaxParts | None = None,
        platform: int | None = None,
    ) -> int:
        """Records a request to refund `amount_minor` (default: all that remains refundable);
        until it is decided, that amount can no longer be asked for again. Its tax is `tax`
        where the caller knows what it returns (a return's lines), else the tax still
        refundable in proportion to the amount, all of it for all that is left."""
        self._not_disputed("refund")
        refundable = self.refundable_minor
        amount = refundable if amount_minor is None else amount_minor
        if refundable == 0:
            raise NotRefundable(f"seller order {self.seller_order_id} has nothing left to refund")
        if isinstance(amount, bool) or not 1 <= amount <= refundable:
            raise RefundTooLarge(f"at most {refundable} can be refunded, not {amount}")
        available = parts_minus(self.tax_left, *(self.requested_tax or {}).values())
        self._refund_requested(
            refund_id=refund_id,
            amount_minor=amount,
            tax_parts=tax_share(available, refundable, amount, tax),
            platform_minor=platform,
        )
        return amount

    def reject_refund(self, refund_id: UUID) -> None:
        self._requested(refund_id)
        self._refund_rejected(refund_id=refund_id)

    def refund(self, refund_id: UUID) -> RefundPlan:
        """Refunds a requested amount: from escrow while it is held, else charged back to the
        seller. Commission is reversed pro rata, rounded half to even. What the platform funded
        goes back as the request said (a return's lines), else in proportion to the goods; all
        that is left of it with the last of what the buyer paid."""
        amount = self._requested(refund_id)
        self._not_disputed("refund")
        generation_before = self.escrow_generation
        from_escrow = self.escrow_is_held
        left = self.gross_minor - self.refunded_minor
        if amount > left:  # a dispute lost since it was asked for took the rest
            raise RefundTooLarge(f"at most {left} is left to refund, not {amount}")
        tax = tax_share(self.tax_left, left, amount, (self.requested_tax or {}).get(str(refund_id)))
        goods = amount - parts_total(tax)
        known = (self.requested_platform or {}).get(str(refund_id))
        if known is None or amount == left:
            # In proportion to the goods, all of it with the last of them: a return that pays
            # back the last of what the buyer paid takes what the platform funded of shipping
            # too, or a refunded seller order would keep it in escrow, which never releases it.
            platform = self._platform_share(goods)
        else:
            platform = min(known, self.platform_left_minor)
        escrowed_left = self.goods_left_minor + self.platform_left_minor
        reversed_commission = pro_rata(
            self.escrow_commission_minor, goods + platform, escrowed_left
        )
        self._refunded(
            refund_id=refund_id,
            amount_minor=amount,
            commission_reversed_minor=reversed_commission,
            from_escrow=from_escrow,
            tax_parts=tax,
            platform_minor=platform,
        )
        return RefundPlan(
            amount,
            reversed_commission,
            goods + platform - reversed_commission,
            from_escrow,
            generation_before,
            self.refunded_in_full,
            parts_total(tax),
            platform,
        )

    def _requested(self, refund_id: UUID) -> int:
        if str(refund_id) not in self.requested_refunds:
            raise WrongSettlementStep(f"refund {refund_id} is not awaiting a decision")
        return self.requested_refunds[str(refund_id)]

    # -- what the events change (Settlement's methods that apply them call these) -----------

    def _forget_request(self, refund_id: UUID) -> None:
        self.requested_refunds = {
            k: v for k, v in self.requested_refunds.items() if k != str(refund_id)
        }
        self.requested_tax = {
            k: v for k, v in (self.requested_tax or {}).items() if k != str(refund_id)
        }
        self.requested_platform = {
            k: v for k, v in (self.requested_platform or {}).items() if k != str(refund_id)
        }

    def _taken(
        self,
        amount: int,
        commission: int,
        from_escrow: bool,
        tax: Mapping[str, int],
        platform: int = 0,
    ) -> None:
        """A refund or a lost dispute took `amount` of what the buyer paid (of which `tax`),
        and `platform` of what the platform funded; of both, `commission` was commission."""
        self.refunded_minor += amount
        self.tax_returned = parts_plus(self.tax_returned or {}, tax)
        self.platform_returned_minor += platform
        self.escrow_commission_minor -= commission
        self.escrow_net_minor -= amount - parts_total(tax) + platform - commission
        if from_escrow:
            self.escrow_generation += 1
            self.escrow = (
                EscrowStatus.REFUNDED if self.refunded_in_full else EscrowStatus.PARTIALLY_REFUNDED
            ).value
