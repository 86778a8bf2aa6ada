"""Seller orders: one seller's part of an order, as fulfilment sees it.

Each seller order moves on its own: pending_payment -> paid -> shipped -> delivered -> completed,
or cancelled before any shipment, or refunded once its settlement (domain/settlement.py) paid
everything back. What the buyer sees of the whole order is derived from its seller orders'
statuses (domain/orders.py `order_status`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate, formerly
from domain.errors import Conflict, Invalid, NotFound
from domain.order_lines import LineUnavailable, OrderError, OrderLine, WrongOrderStep
from domain.tax import TaxParts, part_key, parts_plus
from domain.variants import ChooseVariant


class SellerOrderNotFound(OrderError, NotFound):
    title = "Seller order not found"


class InvalidShipment(OrderError, Invalid):
    title = "Invalid shipment"


class NotReturnable(OrderError, Conflict):
    title = "Not returnable"


class SellerOrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


S = SellerOrderStatus


# The seller order's whole lifecycle: command -> {from: to}. Anything else is a wrong step (409).
TRANSITIONS: dict[str, dict[SellerOrderStatus, SellerOrderStatus]] = {
    "pay": {S.PENDING_PAYMENT: S.PAID},
    "ship": {S.PAID: S.SHIPPED},
    "deliver": {S.SHIPPED: S.DELIVERED},
    "complete": {S.DELIVERED: S.COMPLETED},
    "cancel": {S.PENDING_PAYMENT: S.CANCELLED, S.PAID: S.CANCELLED},
}


class SellerOrder(TenantAggregate):
    """One seller's part of an order, as fulfilment sees it: its lines, its lifecycle and the
    units its returns claim. Its money is its settlement's (domain/settlement.py)."""

    class Placed(TenantAggregate.Created):
        order_id: UUID
        buyer_id: UUID
        seller_id: UUID
        currency: str
        lines: list[dict[str, Any]]
        subtotal_minor: int  # the items
        commission_minor: int
        seller_net_minor: int
        # What the buyer pays to ship it, and the rate (domain/shipping.py `Quote.as_record`);
        # recorded before shipping existed: nothing, and none.
        shipping_minor: int
        shipping: dict[str, Any] | None
        # The tax on its lines (domain/tax.py), and where it was taxed: the shipping address's
        # country and subdivision. Recorded before tax existed: none.
        tax_minor: int
        tax_country: str
        tax_region: str
        # What promotions took off it (domain/promotions.py), as the buyer sees it, and what
        # of its goods and shipping the platform pays (platform-funded promotions).
        discount_minor: int
        platform_funding_minor: int
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["shipping_minor"] = 0
            state["shipping"] = None

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["tax_minor"] = 0
            state["tax_country"] = ""
            state["tax_region"] = ""
            state["discount_minor"] = 0
            state["platform_funding_minor"] = 0

    class Paid(TenantAggregate.Event):
        pass

    class Shipped(TenantAggregate.Event):
        carrier: str
        tracking_number: str

    class Delivered(TenantAggregate.Event):
        delivered_at: datetime
        escrow_release_due_at: datetime

    class Completed(TenantAggregate.Event):
        pass

    class Cancelled(TenantAggregate.Event):
        reason: str

    class RefundedInFull(TenantAggregate.Event):
        """Its settlement paid everything back (refunds, a lost dispute): nothing is left to
        fulfil."""

    class ReturnClaimed(TenantAggregate.Event):
        return_id: UUID
        lines: dict[str, int]

    class ReturnEnded(TenantAggregate.Event):
        return_id: UUID
        received: dict[str, int]

    # -- money events recorded here before settlements existed -----------------------------
    # Their seller orders' streams keep them; they still load, and their settlement is carried
    # over from them (domain/settlement.py). All that fulfilment takes from them is whether
    # refunds and lost disputes took everything paid (the seller order is then refunded).

    class EscrowHeld(TenantAggregate.Event):
        amount_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.funded_before_settlements = True

    class EscrowReleased(TenantAggregate.Event):
        seller_net_minor: int
        commission_minor: int

    class EscrowRefunded(TenantAggregate.Event):
        amount_minor: int

    class RefundRequested(TenantAggregate.Event):
        refund_id: UUID
        amount_minor: int

    class RefundDeclined(TenantAggregate.Event):
        refund_id: UUID

    class Refunded(TenantAggregate.Event):
        refund_id: UUID
        amount_minor: int
        commission_reversed_minor: int
        from_escrow: bool

        def apply(self, aggregate: Any) -> None:
            aggregate._paid_back(self.amount_minor)

    class PayoutAllocated(TenantAggregate.Event):
        payout_id: UUID
        amount_minor: int

    class PayoutReturned(TenantAggregate.Event):
        payout_id: UUID
        amount_minor: int

    class DisputeOpened(TenantAggregate.Event):
        dispute_id: UUID
        amount_minor: int
        commission_minor: int
        in_escrow: bool
        from_payable_minor: int

        def apply(self, aggregate: Any) -> None:
            aggregate.disputed_before_settlement_minor = self.amount_minor

    class DisputeClosed(TenantAggregate.Event):
        dispute_id: UUID
        outcome: str
        fee_minor: int

        def apply(self, aggregate: Any) -> None:
            if self.outcome == "lost":
                aggregate._paid_back(aggregate.disputed_before_settlement_minor)

    # Units open returns claim (return id -> variant id -> quantity), and units returned.
    returns_claimed: dict[str, dict[str, int]] | None = None
    returned_units: dict[str, int] | None = None
    # Nor discounts, before promotions existed.
    discount_minor: int = 0
    platform_funding_minor: int = 0
    # Nor shipping, before it existed.
    shipping_minor: int = 0
    shipping: dict[str, Any] | None = None
    # Whether its money was recorded here, before settlements existed, and what it paid back.
    funded_before_settlements: bool = False
    paid_back_before_settlement_minor: int = 0
    disputed_before_settlement_minor: int = 0

    @staticmethod
    def create_id(order_id: UUID, seller_id: UUID) -> UUID:
        return uuid5(NAMESPACE_URL, f"velora:seller-order:{order_id}:{seller_id}")

    @event(Placed)
    def __init__(
        self,
        tenant_id: UUID,
        order_id: UUID,
        buyer_id: UUID,
        seller_id: UUID,
        currency: str,
        lines: list[dict[str, Any]],
        subtotal_minor: int,
        commission_minor: int,
        seller_net_minor: int,
        shipping_minor: int = 0,
        shipping: dict[str, Any] | None = None,
        tax_minor: int = 0,
        tax_country: str = "",
        tax_region: str = "",
        discount_minor: int = 0,
        platform_funding_minor: int = 0,
    ) -> None:
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.currency = currency
        self.lines = lines
        self.subtotal_minor = subtotal_minor
        self.shipping_minor = shipping_minor
        self.shipping = shipping
        self.tax_minor = tax_minor
        self.tax_country = tax_country
        self.tax_region = tax_region
        self.discount_minor = discount_minor
        self.platform_funding_minor = platform_funding_minor
        self.commission_minor = commission_minor
        self.seller_net_minor = seller_net_minor
        self.status = S.PENDING_PAYMENT.value
        self.delivered_at: datetime | None = None
        self.escrow_release_due_at: datetime | None = None

    @property
    def gross_minor(self) -> int:
        """What the buyer pays for this seller order: its items and their shipping, less what
        the platform pays of them, and their tax. It is what refunds can give back and disputes
        can take; escrow holds it less the tax, and with what the platform pays."""
        return (
            self.subtotal_minor
            + self.shipping_minor
            - self.platform_funding_minor
            + (self.tax_minor)
        )

    @property
    def tax_parts(self) -> TaxParts:
        """Its tax by rate (domain/tax.py)."""
        parts: TaxParts = {}
        for line in self.order_lines:
            if line.tax_minor:
                key = part_key(line.tax_rate_bps, line.tax_name)
                parts[key] = parts.get(key, 0) + line.tax_minor
        return parts

    @property
    def is_delivered(self) -> bool:
        return self.status == S.DELIVERED

    @property
    def order_lines(self) -> list[OrderLine]:
        return [OrderLine.from_record(record) for record in self.lines]

    @property
    def holds(self) -> list[tuple[UUID, str]]:
        """Each line's stock (which holds its units) and hold."""
        return [(line.stock, line.hold_id) for line in self.order_lines]

    def stock_of(self, variant_id: UUID) -> UUID:
        """The stock a line of this variant held its units from (where a return restocks)."""
        return next(line.stock for line in self.order_lines if line.variant_id == variant_id)

    def contains(self, product_id: UUID) -> bool:
        return any(line.product_id == product_id for line in self.order_lines)

    def line_variant(self, product_id: UUID, variant_id: UUID | None) -> UUID:
        """The variant a buyer or seller names as a line of this order: the one given, if it
        is a variant of that product bought here; else the product's only variant bought here
        (422 when it bought several and none is named)."""
        bought = [line.variant_id for line in self.order_lines if line.product_id == product_id]
        if not bought:
            raise LineUnavailable(f"seller order {self.id} has no product {product_id}")
        if variant_id is not None:
            if variant_id not in bought:
                raise LineUnavailable(f"seller order {self.id} has no variant {variant_id}")
            return variant_id
        if len(set(bought)) > 1:
            raise ChooseVariant(f"seller order {self.id} has several variants of {product_id}")
        return bought[0]

    def _next(self, command: str) -> SellerOrderStatus:
        allowed = TRANSITIONS[command]
        current = SellerOrderStatus(self.status)
        if current not in allowed:
            raise WrongOrderStep(f"cannot {command} a seller order that is {self.status}")
        return allowed[current]

    def pay(self) -> None:
        """Payment arrived (its money goes to the seller order's settlement)."""
        self._next("pay")
        self._paid()

    def ship(self, carrier: str, tracking_number: str) -> None:
        self._next("ship")
        carrier, tracking_number = carrier.strip(), tracking_number.strip()
        if not (1 <= len(carrier) <= 100 and 1 <= len(tracking_number) <= 100):
            raise InvalidShipment("carrier and tracking_number need 1 to 100 characters each")
        self._shipped(carrier=carrier, tracking_number=tracking_number)

    def deliver(self, release_delay_days: int = 0, now: datetime | None = None) -> None:
        """Delivered: its escrow becomes due for release `release_delay_days` later."""
        self._next("deliver")
        now = now or datetime.now(UTC)
        self._delivered(
            delivered_at=now, escrow_release_due_at=now + timedelta(days=release_delay_days)
        )

    def complete(self) -> None:
        self._next("complete")
        self._completed()

    def cancel(self, reason: str) -> None:
        self._next("cancel")
        self._cancelled(reason=reason)

    def refunded_in_full(self) -> None:
        """Its settlement paid back everything (a whole refund, a lost dispute)."""
        if self.status != S.REFUNDED:
            self._refunded_in_full()

    def returnable(self, variant_id: UUID) -> int:
        """Units of the variant that can still be returned: ordered, less those returned and
        those open returns claim. Returns, like holds, count by variant (for lines recorded
        before variants, the product, which is its own variant)."""
        ordered = sum(line.quantity for line in self.order_lines if line.variant_id == variant_id)
        key = str(variant_id)
        claimed = sum(lines.get(key, 0) for lines in (self.returns_claimed or {}).values())
        return ordered - (self.returned_units or {}).get(key, 0) - claimed

    def claim_return(self, return_id: UUID, lines: dict[UUID, int]) -> None:
        """Claims the lines (by variant) for a return, so no other return asks for the same
        units; only what was delivered, and not refunded in full, comes back."""
        if self.status not in (S.DELIVERED, S.COMPLETED):
            raise WrongOrderStep(f"cannot return lines of a seller order that is {self.status}")
        bought = {line.variant_id for line in self.order_lines}
        for variant_id, quantity in lines.items():
            if variant_id not in bought:
                raise LineUnavailable(f"seller order {self.id} has no variant {variant_id}")
            left = self.returnable(variant_id)
            if quantity > left:
                raise NotReturnable(f"at most {left} of variant {variant_id} can be returned")
        self._return_claimed(return_id=return_id, lines={str(v): q for v, q in lines.items()})

    def end_return(self, return_id: UUID, received: dict[UUID, int]) -> None:
        """The return is over: rejected (nothing received) or received; what arrived is
        returned for good, the rest of its claim let go."""
        if str(return_id) not in (self.returns_claimed or {}):
            raise WrongOrderStep(f"return {return_id} claims nothing of seller order {self.id}")
        self._return_ended(
            return_id=return_id, received={str(p): q for p, q in received.items() if q}
        )

    def paid_for(self, received: dict[UUID, int]) -> tuple[int, TaxParts, int]:
        """What received units (by variant) paid in the order, their tax included; that tax by
        rate; and what the platform funded of their goods (platform-funded promotions): each
        unit its share of its line, so the units of a line returned over several returns add up
        to what the line paid."""
        paid, tax, platform = 0, [TaxParts()], 0
        for line in self.order_lines:
            units = received.get(line.variant_id, 0)
            if units:
                before = (self.returned_units or {}).get(str(line.variant_id), 0)
                line_paid, line_tax, line_platform = line.returned(before, units)
                paid += line_paid
                tax.append(line_tax)
                platform += line_platform
        return paid, parts_plus(*tax), platform

    def _paid_back(self, amount_minor: int) -> None:
        """A money event recorded here before settlements existed paid `amount_minor` back."""
        self.paid_back_before_settlement_minor += amount_minor
        if self.paid_back_before_settlement_minor == self.gross_minor:
            self.status = S.REFUNDED.value

    @event(ReturnClaimed)
    def _return_claimed(self, return_id: UUID, lines: dict[str, int]) -> None:
        self.returns_claimed = {**(self.returns_claimed or {}), str(return_id): lines}

    @event(ReturnEnded)
    def _return_ended(self, return_id: UUID, received: dict[str, int]) -> None:
        claimed = dict(self.returns_claimed or {})
        del claimed[str(return_id)]
        self.returns_claimed = claimed
        returned = dict(self.returned_units or {})
        for variant_id, quantity in received.items():
            returned[variant_id] = returned.get(variant_id, 0) + quantity
        self.returned_units = returned

    @event(Paid)
    def _paid(self) -> None:
        self.status = S.PAID.value

    @event(Shipped)
    def _shipped(self, carrier: str, tracking_number: str) -> None:
        self.status = S.SHIPPED.value

    @event(Delivered)
    def _delivered(self, delivered_at: datetime, escrow_release_due_at: datetime) -> None:
        self.status = S.DELIVERED.value
        self.delivered_at = delivered_at
        self.escrow_release_due_at = escrow_release_due_at

    @event(RefundedInFull)
    def _refunded_in_full(self) -> None:
        self.status = S.REFUNDED.value

    @event(Completed)
    def _completed(self) -> None:
        self.status = S.COMPLETED.value

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = S.CANCELLED.value


# Seller orders lived in domain/orders.py: their events are stored under its topics.
formerly("domain.orders:SellerOrder", SellerOrder)
# Returns' units were said to be held before the glossary kept "hold" for stock: events stored
# under that name load as what they are.
formerly("domain.orders:SellerOrder.ReturnHeld", SellerOrder.ReturnClaimed)
