"""What a settlement (domain/settlement.py) deals in: where the money is, a dispute's share of
it, how a refund splits, and what it refuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, DomainError, Invalid
from domain.money import divide_half_even
from domain.tax import TaxParts, parts_minus, parts_plus, parts_total, share_of


class SettlementError(DomainError):
    """Base of the settlement's errors."""


class WrongSettlementStep(SettlementError, Conflict):
    title = "Wrong lifecycle step"


class EscrowNotDue(SettlementError, Conflict):
    title = "Escrow not due"


class UnderDispute(SettlementError, Conflict):
    title = "Under dispute"


class NotRefundable(SettlementError, Conflict):
    title = "Nothing to refund"


class RefundTooLarge(SettlementError, Invalid):
    title = "Refund too large"


class EscrowStatus(StrEnum):
    """Where the seller order's money is (the API's `escrow_status`)."""

    NONE = "none"  # not paid
    HELD = "held"  # in escrow, all of it
    RELEASED = "released"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"  # in escrow, what refunds left


class DisputeStatus(StrEnum):
    NONE = "none"
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True)
class DisputeShare:
    """A dispute's share of a seller order: part of the disputed amount, split into commission
    and the seller's net as a refund of it would be, and where it is reserved: in escrow (whose
    release waits), or, once released, in the seller's dispute reserve, taken from its payable
    up to `from_payable_minor` and the rest charged to its receivable."""

    dispute_id: UUID
    amount_minor: int
    commission_minor: int
    in_escrow: bool
    from_payable_minor: int
    # The tax of the disputed amount, by rate: given back out of `tax_payable` if it is lost.
    tax_parts: Mapping[str, int] = field(default_factory=dict)
    # What the platform funded of it (platform-funded promotions): back to the platform if lost.
    platform_minor: int = 0

    @property
    def tax_minor(self) -> int:
        return parts_total(self.tax_parts)

    @property
    def net_minor(self) -> int:
        """The seller's part: the amount less its tax, with what the platform funded of it,
        less commission."""
        return self.amount_minor - self.tax_minor + self.platform_minor - self.commission_minor

    @property
    def from_receivable_minor(self) -> int:
        return 0 if self.in_escrow else self.net_minor - self.from_payable_minor


@dataclass(frozen=True)
class RefundPlan:
    """How an approved refund splits: what goes back to the buyer, how much commission is
    reversed, how much the seller gives up, whether it comes out of escrow, and whether it
    takes the last of what was paid (the seller order is then refunded)."""

    amount_minor: int
    commission_reversed_minor: int
    net_reversed_minor: int
    from_escrow: bool
    generation_before: int
    whole: bool = False
    # The tax it gives back (out of `tax_payable`, never the seller's), and what goes back to
    # the platform's `promotions` of what it funded.
    tax_minor: int = 0
    platform_minor: int = 0


def pro_rata(part: int, amount: int, whole: int) -> int:
    """part x amount / whole, rounded half to even, in integers."""
    return divide_half_even(part * amount, whole) if whole else 0


def tax_share(
    available: TaxParts, left_minor: int, amount_minor: int, known: TaxParts | None = None
) -> TaxParts:
    """The tax of giving back `amount_minor` of the `left_minor` a buyer paid and has not had
    back, of which `available` is tax: `known` where the caller knows it (a return's lines),
    at most what is available; else the available tax in proportion, all of it for all that
    is left. Either way no more than the amount, and the rest never more than the goods left."""
    if known is None:
        if amount_minor >= left_minor:
            parts = dict(available)
        else:
            parts = share_of(available, pro_rata(parts_total(available), amount_minor, left_minor))
    else:
        parts = {k: min(v, available.get(k, 0)) for k, v in known.items() if available.get(k)}
    if parts_total(parts) > amount_minor:
        parts = share_of(parts, amount_minor)
    goods_available = left_minor - parts_total(available)
    short = amount_minor - parts_total(parts) - goods_available
    if short > 0:  # more than the goods left: the rest is tax
        parts = parts_plus(parts, share_of(parts_minus(available, parts), short))
    return parts
