"""What a dispute of the charge can take of a settlement (domain/settlement.py), and from where.

A dispute reserves a share of what refunds left, split into tax, the goods, what the platform
funded of them and commission as a refund of it would be (`open_dispute`). While escrow holds
the money the share stays in escrow, whose release waits for the dispute; once escrow has
released it, the seller's net of the share moves into its dispute reserve from what its
payable has available, the rest charged to its receivable. Won, the share goes back; lost, it
leaves as a refund would, and the seller bears its part of the dispute fee (`close_dispute`).
Only one dispute is open at a time, and none leaves refunds or a release through meanwhile.

A mixin of `Settlement`, which records the events: the methods that apply them stay nested
beside them in domain/settlement.py, under the topics they are stored under."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain.settlement_figures import SettlementFigures
from domain.settlement_values import (
    DisputeShare,
    DisputeStatus,
    EscrowStatus,
    RefundTooLarge,
    WrongSettlementStep,
    pro_rata,
    tax_share,
)
from domain.tax import TaxParts, parts_total


class SettlementDisputes(SettlementFigures):
    """A settlement's disputes (see the module's docstring): a mixin of `Settlement`."""

    escrow_commission_minor: int
    escrow_generation: int

    if TYPE_CHECKING:  # Settlement's, beside the events they record

        def _dispute_opened(
            self,
            dispute_id: UUID,
            amount_minor: int,
            commission_minor: int,
            in_escrow: bool,
            from_payable_minor: int,
            tax_parts: TaxParts,
            platform_minor: int,
        ) -> None: ...

        def _dispute_closed(
            self, dispute_id: UUID, outcome: str, fee_minor: int, tax_parts: TaxParts
        ) -> None: ...

    def open_dispute(
        self, dispute_id: UUID, amount_minor: int, payable_available_minor: int
    ) -> DisputeShare:
        """Reserves `amount_minor` (at most what refunds left) for a dispute of the charge: in
        escrow while it holds the money, else moved into the seller's dispute reserve from what
        its payable has available (`payable_available_minor`), the rest charged to its
        receivable. Commission's part is split off as a refund's would be."""
        if self.escrow == EscrowStatus.NONE:
            raise WrongSettlementStep(f"seller order {self.seller_order_id} was never paid")
        self._not_disputed("open another dispute on")
        remaining = self.gross_minor - self.refunded_minor
        if not 0 < amount_minor <= remaining:
            raise RefundTooLarge(f"at most {remaining} can be disputed, not {amount_minor}")
        tax = tax_share(self.tax_left, remaining, amount_minor)
        goods = amount_minor - parts_total(tax)
        platform = self._platform_share(goods)
        escrowed_left = self.goods_left_minor + self.platform_left_minor
        commission = pro_rata(self.escrow_commission_minor, goods + platform, escrowed_left)
        in_escrow = self.escrow_is_held
        net = goods + platform - commission
        from_payable = 0 if in_escrow else min(net, max(0, payable_available_minor))
        self._dispute_opened(
            dispute_id=dispute_id,
            amount_minor=amount_minor,
            commission_minor=commission,
            in_escrow=in_escrow,
            from_payable_minor=from_payable,
            tax_parts=tax,
            platform_minor=platform,
        )
        assert self.dispute is not None
        return self.dispute

    def close_dispute(
        self, dispute_id: UUID, *, won: bool, fee_minor: int
    ) -> tuple[DisputeShare, int]:
        """Ends the open dispute: won, its share goes back; lost, it leaves as a refund would
        (from escrow, or out of the reserve), the seller bearing `fee_minor` of the dispute
        fee. Returns the share and the escrow generation before it."""
        share = self.dispute
        if not self.under_dispute or share is None or share.dispute_id != dispute_id:
            raise WrongSettlementStep(
                f"dispute {dispute_id} is not open on seller order {self.seller_order_id}"
            )
        generation_before = self.escrow_generation
        outcome = DisputeStatus.WON if won else DisputeStatus.LOST
        self._dispute_closed(
            dispute_id=dispute_id,
            outcome=outcome.value,
            fee_minor=fee_minor,
            tax_parts=dict(share.tax_parts) if outcome == DisputeStatus.LOST else {},
        )
        return share, generation_before
