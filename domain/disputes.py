"""Disputes (chargebacks): a buyer asks their card issuer for a charge back, and the payment
provider reports it as it opens and as it closes, won or lost.

One `Dispute` per provider dispute. Opening it splits the disputed amount over the order's
seller orders, pro rata to what each still has (what refunds left), and each one's settlement
reserves its share (`open_dispute`, domain/settlement_disputes.py): in escrow, whose release
waits, or, once released, in the seller's dispute reserve. Closing it won gives the reserves
back; lost, each share leaves as a refund would, and the dispute fee is borne as the tenant's
policy says (the sellers, pro rata to their shares, or the platform). A part of the amount no
seller order has any longer (refunded before the dispute) is the platform's loss. A `closed`
that arrives before its `created` opens and closes the dispute in one step; the `created` that
follows changes nothing.

What a provider says is checked against the charge it concerns before anything is booked
(`refusal`): a dispute in another currency than the order's, of an order never charged, or
that would take the disputes of one charge together past it (`ChargeDisputes` keeps their
sum), and a fee larger than the charge, are not booked. The order is flagged for a person
instead, and nothing else changes: a signed event can name any amount, and the ledger must
never move for one the charge cannot explain."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain import escrow
from domain.base import TenantAggregate
from domain.errors import Conflict, DomainError, Invalid
from domain.ledger import Books, Chart
from domain.money import divide_half_even
from domain.orders import Order
from domain.seller_orders import SellerOrder
from domain.settlement import Settlement


class DisputeError(DomainError):
    """Base of the disputes context's errors."""


class DisputeClosedAlready(DisputeError, Conflict):
    title = "Dispute already closed"


class InvalidDispute(DisputeError, Invalid):
    title = "Invalid dispute"


class DisputeOutcome(StrEnum):
    """What a provider's dispute event did (the webhook answers it)."""

    DISPUTED = "disputed"  # opened: its amount is reserved of the seller orders
    WON = "won"  # closed won: the reserves went back
    LOST = "lost"  # closed lost: the held amounts and the fee left through the ledger
    KNOWN = "known"  # recorded already (opened, or closed)
    FLAGGED = "flagged"  # the charge cannot explain it: the order is flagged, nothing booked


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


def share_out(amount_minor: int, available: list[tuple[K, int]]) -> dict[K, int]:
    """`amount_minor`, up to what is available in all, split pro rata to what each has: no
    share exceeds what it has."""
    return split_pro_rata(min(amount_minor, sum(a for _, a in available)), available)


class Dispute(TenantAggregate):
    class Opened(TenantAggregate.Created):
        provider: str
        provider_dispute_id: str
        order_id: UUID
        currency: str
        amount_minor: int
        reason: str
        shares: dict[str, int]  # seller order id -> the part of the amount it reserves

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


class ChargeDisputes(TenantAggregate):
    """The disputes of one order's charge and what they claim together. Stripe disputes a
    charge once, but a signed event may name any dispute id: however many arrive, together
    they never claim more than was charged."""

    class Started(TenantAggregate.Created):
        order_id: UUID

    class Claimed(TenantAggregate.Event):
        dispute_id: UUID
        amount_minor: int

    @staticmethod
    def create_id(order_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:charge-disputes:{order_id}")

    @event(Started)
    def __init__(self, tenant_id: UUID, order_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.claims: dict[str, int] = {}

    @property
    def claimed_minor(self) -> int:
        return sum(self.claims.values())

    def claim(self, dispute_id: UUID, amount_minor: int, charged_minor: int) -> None:
        """Counts a dispute of `amount_minor` against the charge of `charged_minor`."""
        if str(dispute_id) in self.claims:
            return
        if not 0 < amount_minor <= charged_minor - self.claimed_minor:
            raise InvalidDispute(
                f"disputes of {self.claimed_minor + amount_minor} would exceed the charge of "
                f"{charged_minor}"
            )
        self._claimed(dispute_id=dispute_id, amount_minor=amount_minor)

    @event(Claimed)
    def _claimed(self, dispute_id: UUID, amount_minor: int) -> None:
        self.claims = {**self.claims, str(dispute_id): amount_minor}


@dataclass(frozen=True)
class DisputeReport:
    """What the provider says of one dispute, in any event about it."""

    provider: str
    provider_dispute_id: str
    amount_minor: int
    currency: str  # as the provider writes it (Stripe: lower case)
    reason: str


def refusal(
    order: Order,
    charge: ChargeDisputes,
    report: DisputeReport,
    *,
    opening: bool,
    fee_minor: int = 0,
) -> str | None:
    """Why the charge cannot explain this dispute event, or None when it can be booked.
    `opening`: the dispute is not recorded yet, so its amount is checked against what the
    charge has left to dispute; a closing one's fee is checked against the charge."""
    currency, charged = report.currency.upper(), order.charged_minor
    if currency != order.currency:
        return f"a dispute in {currency} of an order in {order.currency}"
    if opening and not charged:
        return f"a dispute of {report.amount_minor} {currency} of an order never paid"
    claimed = charge.claimed_minor + report.amount_minor
    if opening and claimed > charged:
        return f"disputes of {claimed} {currency} would exceed the charge of {charged} {currency}"
    if fee_minor > charged:
        return f"a dispute fee of {fee_minor} {currency} exceeds the charge of {charged} {currency}"
    return None


def open_dispute(
    order: Order,
    charge: ChargeDisputes,
    settlements: list[Settlement],
    books: Books,
    report: DisputeReport,
) -> Dispute | None:
    """Opens the dispute the report describes: split over the paid seller orders' settlements
    pro rata to what each still has, each share reserved, the order flagged for review. None
    if the charge cannot explain it (`refusal`): then the order is flagged with the reason, and
    nothing else changes."""
    refused = refusal(order, charge, report, opening=True)
    if refused is not None:
        order.flag_for_review(refused)
        return None
    return _opened(order, charge, settlements, books, report)


def close_dispute(
    order: Order,
    charge: ChargeDisputes,
    dispute: Dispute | None,
    parts: list[tuple[SellerOrder, Settlement]],
    books: Books,
    report: DisputeReport,
    *,
    won: bool,
    fee_minor: int,
    fee_payer: FeePayer,
) -> Dispute | None:
    """Closes the dispute (opening it first if it was not recorded yet): won, its reserves go
    back; lost, the reserved amounts and the fee leave, the fee borne as `fee_payer` says, and
    a seller order that lost all it was paid is refunded. None if the charge cannot explain it:
    the order is flagged, and the dispute stays as it was. `parts`: the order's paid seller
    orders with their settlements."""
    refused = refusal(order, charge, report, opening=dispute is None, fee_minor=fee_minor)
    if refused is not None:
        order.flag_for_review(refused)
        return None
    if dispute is None:
        dispute = _opened(order, charge, [s for _, s in parts], books, report)
    fees = dispute.close(won=won, fee_minor=fee_minor, fee_payer=fee_payer)
    for so, settlement in parts:
        if str(so.id) not in dispute.shares:
            continue
        fee = fees.get(so.id, 0)
        share, generation_before = settlement.close_dispute(dispute.id, won=won, fee_minor=fee)
        if won:
            escrow.return_dispute_reserve(books, settlement, share)
        else:
            escrow.lose_dispute(books, settlement, share, generation_before, fee)
            if settlement.refunded_in_full:
                so.refunded_in_full()
    escrow.platform_dispute_loss(books, dispute.id, dispute.platform_loss_minor)
    return dispute


def _opened(
    order: Order,
    charge: ChargeDisputes,
    settlements: list[Settlement],
    books: Books,
    report: DisputeReport,
) -> Dispute:
    shares = share_out(
        report.amount_minor, [(s.seller_order_id, s.disputable_minor) for s in settlements]
    )
    dispute = Dispute.open(
        tenant_id=order.tenant_id,
        provider=report.provider,
        provider_dispute_id=report.provider_dispute_id,
        order_id=order.id,
        currency=order.currency,
        amount_minor=report.amount_minor,
        reason=report.reason,
        shares=shares,
    )
    charge.claim(dispute.id, report.amount_minor, order.charged_minor)
    for settlement in settlements:
        if shares.get(settlement.seller_order_id):
            payable = books.spendable(Chart.seller_payable(settlement.seller_id))
            share = settlement.open_dispute(dispute.id, shares[settlement.seller_order_id], payable)
            escrow.reserve_dispute(books, settlement, share)
    order.flag_for_review("the buyer disputed the charge")
    return dispute
