"""Disputes (chargebacks): a buyer asks their card issuer for a charge back, and the payment
provider reports it as it opens and as it closes, won or lost.

One `Dispute` per provider dispute. Opening it splits the disputed amount over the order's
seller orders, pro rata to what each still holds (what refunds left), and each seller order
holds its share (domain/orders.py `open_dispute`): in escrow, whose release waits, or, once
released, in the seller's dispute reserve. Closing it won gives the holds back; lost, each
share leaves as a refund would, and the dispute fee is borne as the tenant's policy says (the
sellers, pro rata to their shares, or the platform). A part of the amount no seller order holds
any longer (refunded before the dispute) is the platform's loss. A `closed` that arrives before
its `created` opens and closes the dispute in one step; the `created` that follows changes
nothing."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid
from domain.money import divide_half_even


class DisputeError(DomainError):
    """Base of the disputes context's errors."""


class DisputeClosedAlready(DisputeError, Conflict):
    title = "Dispute already closed"


class InvalidDispute(DisputeError, Invalid):
    title = "Invalid dispute"


class FeePayer(StrEnum):
    """Who bears a lost dispute's fee: the sellers whose orders were disputed, or the
    platform. The disputed amount itself is always the sellers' (as a refund's is), less the
    commission, which the platform gives back."""

    SELLER = "seller"
    PLATFORM = "platform"


K = TypeVar("K")


def split_pro_rata(amount_minor: int, weights: list[tuple[K, int]]) -> dict[K, int]:
    """`amount_minor` split pro rata to the weights, each share rounded half to even on the
    running total, so the shares add up exactly."""
    whole = sum(w for _, w in weights)
    shares: dict[K, int] = {}
    running = given = 0
    for key, weight in weights:
        running += weight
        upto = divide_half_even(running * amount_minor, whole) if whole else 0
        shares[key] = upto - given
        given = upto
    return shares


def share_out(amount_minor: int, holdings: list[tuple[K, int]]) -> dict[K, int]:
    """`amount_minor`, up to what the holdings hold in all, split pro rata to them: no share
    exceeds its holding."""
    return split_pro_rata(min(amount_minor, sum(h for _, h in holdings)), holdings)


class Dispute(TenantAggregate):
    class Opened(TenantAggregate.Created):
        provider: str
        provider_dispute_id: str
        order_id: UUID
        currency: str
        amount_minor: int
        reason: str
        shares: dict[str, int]  # seller order id -> the part of the amount it holds

    class Closed(TenantAggregate.Event):
        won: bool
        fee_minor: int
        fee_payer: str

    @staticmethod
    def create_id(provider: str, provider_dispute_id: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:dispute:{provider}:{provider_dispute_id}")

    @classmethod
    def open(
        cls,
        *,
        tenant_id: UUID,
        provider: str,
        provider_dispute_id: str,
        order_id: UUID,
        currency: str,
        amount_minor: int,
        reason: str,
        shares: dict[UUID, int],
    ) -> Dispute:
        if isinstance(amount_minor, bool) or amount_minor <= 0:
            raise InvalidDispute("a dispute's amount must be a positive number of minor units")
        return cls(
            tenant_id=tenant_id,
            provider=provider,
            provider_dispute_id=provider_dispute_id,
            order_id=order_id,
            currency=currency,
            amount_minor=amount_minor,
            reason=reason[:200],
            shares={str(k): v for k, v in shares.items() if v},
        )

    @event(Opened)
    def __init__(
        self,
        tenant_id: UUID,
        provider: str,
        provider_dispute_id: str,
        order_id: UUID,
        currency: str,
        amount_minor: int,
        reason: str,
        shares: dict[str, int],
    ) -> None:
        self.tenant_id = tenant_id
        self.provider = provider
        self.provider_dispute_id = provider_dispute_id
        self.order_id = order_id
        self.currency = currency
        self.amount_minor = amount_minor
        self.reason = reason
        self.shares = shares
        self.closed = False
        self.won: bool | None = None

    @property
    def unshared_minor(self) -> int:
        """The part no seller order held: the platform's to bear if the dispute is lost."""
        return self.amount_minor - sum(self.shares.values())

    def close(self, *, won: bool, fee_minor: int, fee_payer: FeePayer) -> dict[UUID, int]:
        """Closes the dispute; returns each seller order's part of the fee to bear (none if
        won, or if the platform bears it)."""
        if self.closed:
            raise DisputeClosedAlready(f"dispute {self.provider_dispute_id} is closed already")
        if isinstance(fee_minor, bool) or fee_minor < 0:
            raise InvalidDispute("a dispute fee must be 0 or more minor units")
        self._closed(won=won, fee_minor=fee_minor, fee_payer=fee_payer.value)
        return self.fee_shares

    @property
    def fee_shares(self) -> dict[UUID, int]:
        if not self.closed or self.won or self.fee_payer != FeePayer.SELLER:
            return {}
        weights = [(UUID(k), v) for k, v in self.shares.items()]
        return split_pro_rata(self.fee_minor, weights) if weights else {}

    @property
    def platform_loss_minor(self) -> int:
        """What the platform bears of a lost dispute: the unshared amount, and the fee unless
        sellers bear it."""
        if not self.closed or self.won:
            return 0
        return self.unshared_minor + self.fee_minor - sum(self.fee_shares.values())

    @event(Closed)
    def _closed(self, won: bool, fee_minor: int, fee_payer: str) -> None:
        self.closed = True
        self.won = won
        self.fee_minor = fee_minor
        self.fee_payer = fee_payer
