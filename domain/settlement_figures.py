"""What a settlement (domain/settlement.py) holds, read from its state: what escrow keeps, what
can still be refunded, disputed and paid out, and the shares of tax and of the platform's
funding that go back with the buyer's money."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.settlement_values import (
    DisputeShare,
    DisputeStatus,
    EscrowStatus,
    UnderDispute,
    pro_rata,
)
from domain.tax import TaxParts, parts_minus, parts_total


class SettlementFigures:
    """The read-only side of `Settlement`: figures worked out from the state its events keep."""

    seller_order_id: UUID
    escrow: str
    cancelled: bool
    gross_minor: int
    refunded_minor: int
    requested_refunds: dict[str, int]
    released_net_minor: int
    payouts: dict[str, int]
    dispute_status: str
    dispute_reserved: dict[str, Any] | None
    tax_parts: TaxParts | None
    tax_returned: TaxParts | None
    platform_funding_minor: int
    platform_returned_minor: int

    @property
    def escrow_is_held(self) -> bool:
        """Escrow still holds this seller order's money (all of it, or what refunds left)."""
        return self.escrow in (EscrowStatus.HELD, EscrowStatus.PARTIALLY_REFUNDED)

    @property
    def refunded_in_full(self) -> bool:
        return self.refunded_minor == self.gross_minor

    @property
    def tax_minor(self) -> int:
        return parts_total(self.tax_parts or {})

    @property
    def tax_left(self) -> TaxParts:
        """The tax collected and not given back, by rate."""
        return parts_minus(self.tax_parts or {}, self.tax_returned or {})

    @property
    def goods_left_minor(self) -> int:
        """What the buyer paid that is not tax (items and shipping), less what went back."""
        taken = self.refunded_minor - parts_total(self.tax_returned or {})
        return self.gross_minor - self.tax_minor - taken

    @property
    def platform_left_minor(self) -> int:
        """What the platform funded and has not had back."""
        return self.platform_funding_minor - self.platform_returned_minor

    def _platform_share(self, goods: int) -> int:
        """The platform's part of giving back `goods` of the buyer's goods left: in
        proportion, all of it with the last of them."""
        left = self.goods_left_minor
        if goods >= left:
            return self.platform_left_minor
        return pro_rata(self.platform_left_minor, goods, left)

    @property
    def refundable_minor(self) -> int:
        """What can still be asked back: paid, less refunded, less refunds awaiting a decision."""
        if self.escrow == EscrowStatus.NONE or self.cancelled:
            return 0
        return self.gross_minor - self.refunded_minor - sum(self.requested_refunds.values())

    @property
    def payout_remaining_minor(self) -> int:
        """Released to the seller and not yet part of a payout."""
        return self.released_net_minor - sum(self.payouts.values())

    @property
    def dispute(self) -> DisputeShare | None:
        """The latest dispute's share (open or closed)."""
        if not self.dispute_reserved:
            return None
        kept = self.dispute_reserved
        return DisputeShare(**{**kept, "dispute_id": UUID(str(kept["dispute_id"]))})

    @property
    def under_dispute(self) -> bool:
        return self.dispute_status == DisputeStatus.OPEN

    @property
    def disputable_minor(self) -> int:
        """What a dispute of the charge can reserve of this seller order: what refunds left of
        money escrow holds or released, unless a dispute reserves it already."""
        if self.under_dispute or self.escrow not in (
            EscrowStatus.HELD,
            EscrowStatus.PARTIALLY_REFUNDED,
            EscrowStatus.RELEASED,
        ):
            return 0
        return self.gross_minor - self.refunded_minor

    def refund_of(self, paid_for_received_minor: int) -> int:
        """What received units are refunded: what they paid, up to what is still refundable
        (an earlier refund by amount may have paid some of it back already)."""
        return min(paid_for_received_minor, self.refundable_minor)

    def _not_disputed(self, command: str) -> None:
        if self.under_dispute:
            raise UnderDispute(
                f"cannot {command} seller order {self.seller_order_id} while the buyer disputes "
                "the charge"
            )
