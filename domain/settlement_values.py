"""What a settlement (domain/settlement.py) deals in: where the money is, a dispute's share of
it, how a refund splits, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.errors import Conflict, DomainError, Invalid
from domain.money import divide_half_even


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

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.commission_minor

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


def pro_rata(part: int, amount: int, whole: int) -> int:
    """part x amount / whole, rounded half to even, in integers."""
    return divide_half_even(part * amount, whole) if whole else 0
