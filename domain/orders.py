"""Orders: one buyer's checkout, split into one seller order per seller.

Each seller order moves on its own: pending_payment -> paid -> shipped -> delivered -> completed,
or cancelled before any shipment. The order itself tracks payment; what it looks like to the buyer
(paid, fulfilled, completed...) is derived from its seller orders by the read model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from eventsourcing.utils import register_topic

from domain.base import TenantAggregate
from domain.commission import commission_of
from domain.errors import Conflict, DomainError, Invalid, NotFound
from domain.shipping import Quote
from domain.variants import ChooseVariant


class OrderError(DomainError):
    """Base of the orders context's errors."""


class OrderNotFound(OrderError, NotFound):
    title = "Order not found"


class SellerOrderNotFound(OrderError, NotFound):
    title = "Seller order not found"


class WrongOrderStep(OrderError, Conflict):
    title = "Wrong lifecycle step"


class MixedCurrencies(OrderError, Invalid):
    title = "Mixed currencies"


class LineUnavailable(OrderError, Conflict):
    title = "Line not available"


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


def order_status(seller_order_statuses: list[str], refunded_any: bool = False) -> str:
    """An order's status as buyers see it, from its seller orders': cancelled when all are;
    among the others, refunded when all are, partially_refunded once any money went back,
    pending_payment while all await payment, completed when all are, fulfilled when all are
    delivered (or completed), and paid in between."""
    live = [s for s in seller_order_statuses if s != S.CANCELLED]
    if not live:
        return "cancelled"
    if all(s == S.REFUNDED for s in live):
        return "refunded"
    if refunded_any:
        return "partially_refunded"
    if all(s == S.PENDING_PAYMENT for s in live):
        return "pending_payment"
    if all(s == S.COMPLETED for s in live):
        return "completed"
    if all(s in (S.DELIVERED, S.COMPLETED) for s in live):
        return "fulfilled"
    return "paid"


# The seller order's whole lifecycle: command -> {from: to}. Anything else is a wrong step (409).
TRANSITIONS: dict[str, dict[SellerOrderStatus, SellerOrderStatus]] = {
    "pay": {S.PENDING_PAYMENT: S.PAID},
    "ship": {S.PAID: S.SHIPPED},
    "deliver": {S.SHIPPED: S.DELIVERED},
    "complete": {S.DELIVERED: S.COMPLETED},
    "cancel": {S.PENDING_PAYMENT: S.CANCELLED, S.PAID: S.CANCELLED},
}


@dataclass(frozen=True)
class PricedLine:
    """A cart line priced at checkout, with the commission rate that applies to it."""

    product_id: UUID
    seller_id: UUID
    title: str
    quantity: int
    unit_price_minor: int
    currency: str
    rate_bps: int
    # The variant bought (domain/variants.py): the product itself while it has none.
    variant_id: UUID | None = None
    sku: str = ""
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def total_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def key(self) -> UUID:
        """What names the line within its order: the variant."""
        return self.variant_id or self.product_id

    def ordered(self, hold_id: str) -> OrderLine:
        """The line as its seller order records it, its commission worked out."""
        return OrderLine(
            product_id=self.product_id,
            title=self.title,
            quantity=self.quantity,
            unit_price_minor=self.unit_price_minor,
            line_total_minor=self.total_minor,
            commission_bps=self.rate_bps,
            commission_minor=commission_of(self.total_minor, self.rate_bps),
            hold_id=hold_id,
            variant_id=self.key,
            sku=self.sku,
            options=dict(self.options),
        )


@dataclass(frozen=True)
class OrderLine:
    """One line of a seller order as placed: what was bought, at what price and commission, and
    the stock hold that keeps its units. Events and read models store it as a plain record."""

    product_id: UUID
    title: str
    quantity: int
    unit_price_minor: int
    line_total_minor: int
    commission_bps: int
    commission_minor: int
    hold_id: str
    # The variant bought, its sku and option values. A line recorded before variants existed
    # bought its product's one variant: the product itself, under its own id.
    variant_id: UUID
    sku: str = ""
    options: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> OrderLine:
        product_id = UUID(str(record["product_id"]))
        return cls(
            product_id=product_id,
            title=str(record["title"]),
            quantity=int(record["quantity"]),
            unit_price_minor=int(record["unit_price_minor"]),
            line_total_minor=int(record["line_total_minor"]),
            commission_bps=int(record["commission_bps"]),
            commission_minor=int(record["commission_minor"]),
            hold_id=str(record["hold_id"]),
            variant_id=UUID(str(record.get("variant_id") or product_id)),
            sku=str(record.get("sku") or ""),
            options=dict(record.get("options") or {}),
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "product_id": str(self.product_id),
            "variant_id": str(self.variant_id),
            "sku": self.sku,
            "options": dict(self.options),
            "title": self.title,
            "quantity": self.quantity,
            "unit_price_minor": self.unit_price_minor,
            "line_total_minor": self.line_total_minor,
            "commission_bps": self.commission_bps,
            "commission_minor": self.commission_minor,
            "hold_id": self.hold_id,
        }


def hold_id_for(order_id: UUID, variant_id: UUID) -> str:
    """The stock hold of one line: of a variant (of a product without variants, the product,
    as it always was)."""
    return f"{order_id}:{variant_id}"


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
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["shipping_minor"] = 0
            state["shipping"] = None

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
        self.commission_minor = commission_minor
        self.seller_net_minor = seller_net_minor
        self.status = S.PENDING_PAYMENT.value
        self.delivered_at: datetime | None = None
        self.escrow_release_due_at: datetime | None = None

    @property
    def gross_minor(self) -> int:
        """What the buyer pays for this seller order: its items and their shipping. It is
        what escrow holds, refunds give back, and disputes can take."""
        return self.subtotal_minor + self.shipping_minor

    @property
    def is_delivered(self) -> bool:
        return self.status == S.DELIVERED

    @property
    def order_lines(self) -> list[OrderLine]:
        return [OrderLine.from_record(record) for record in self.lines]

    @property
    def holds(self) -> list[tuple[UUID, str]]:
        """Each line's variant (whose stock holds its units) and hold."""
        return [(line.variant_id, line.hold_id) for line in self.order_lines]

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

    def paid_for(self, received: dict[UUID, int]) -> int:
        """What received units (by variant) paid, at their price in the order."""
        return sum(
            line.unit_price_minor * received.get(line.variant_id, 0) for line in self.order_lines
        )

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


# Returns' units were said to be held before the glossary kept "hold" for stock: events stored
# under that name load as what they are.
register_topic("domain.orders:SellerOrder.ReturnHeld", SellerOrder.ReturnClaimed)


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    CANCELLED = "cancelled"


class Order(TenantAggregate):
    """The buyer's checkout: what was bought from whom, for how much, and its payment."""

    class Placed(TenantAggregate.Created):
        personal: ClassVar[Mapping[str, str]] = {
            "shipping_address": "buyer_id",
            "guest_email": "buyer_id",
        }
        idempotency_key: str
        buyer_id: UUID
        cart_id: UUID
        currency: str
        total_minor: int
        seller_order_ids: list[UUID]
        shipping_address: dict[str, str]
        expires_at: datetime
        # A guest's order: where to write to, and whom it joins once an account verifies it
        # ("" for a buyer's order, and for every order placed before guests existed).
        guest_email: str
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["guest_email"] = ""

    class PaymentIntentAttached(TenantAggregate.Event):
        secret: ClassVar[frozenset[str]] = frozenset({"client_secret"})
        provider: str
        intent_id: str
        client_secret: str
        amount_minor: int

    class Paid(TenantAggregate.Event):
        charge_id: str
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["charge_id"] = ""  # recorded before Velora kept the provider's charge id

    class Cancelled(TenantAggregate.Event):
        reason: str

    class FlaggedForReview(TenantAggregate.Event):
        reason: str

    class PaymentReturned(TenantAggregate.Event):
        """Money the buyer paid went back through the provider (a cancelled order, or a payment
        that arrived after the order had been cancelled)."""

        provider_refund_id: str
        amount_minor: int
        currency: str
        reason: str
        late: bool

    @staticmethod
    def create_id(tenant_id: UUID, buyer_id: UUID, idempotency_key: str) -> UUID:
        """One order per (buyer, Idempotency-Key): a checkout retried after a crash resumes it."""
        return uuid5(NAMESPACE_URL, f"velora:order:{tenant_id}:{buyer_id}:{idempotency_key}")

    @event(Placed)
    def __init__(
        self,
        tenant_id: UUID,
        idempotency_key: str,
        buyer_id: UUID,
        cart_id: UUID,
        currency: str,
        total_minor: int,
        seller_order_ids: list[UUID],
        shipping_address: dict[str, str],
        expires_at: datetime,
        guest_email: str = "",
    ) -> None:
        self.tenant_id = tenant_id
        self.idempotency_key = idempotency_key
        self.buyer_id = buyer_id
        self.cart_id = cart_id
        self.currency = currency
        self.total_minor = total_minor
        self.seller_order_ids = seller_order_ids
        self.shipping_address = shipping_address
        self.expires_at = expires_at
        self.guest_email = guest_email
        self.status = OrderStatus.PENDING_PAYMENT.value
        self.payment: dict[str, Any] | None = None
        self.review_reasons: list[str] = []
        self.charge_id = ""
        self.returned: dict[str, int] = {}
        self.late_payment_returned = False
        # What the provider charged the buyer for this order, which bounds its disputes and
        # their fees: the total once paid, a late payment's amount once returned, else 0.
        self.charged_minor = 0

    def bought_by(self, buyer_id: UUID, verified_email: str | None) -> bool:
        """Whether the order is this buyer's: placed by it, or placed by a guest with the email
        its account has verified (a guest's orders join the account that verifies its email)."""
        if self.buyer_id == buyer_id:
            return True
        guest_email = getattr(self, "guest_email", "")  # "" before guests existed
        return bool(guest_email) and guest_email == verified_email

    def attach_payment_intent(
        self, provider: str, intent_id: str, client_secret: str, amount_minor: int
    ) -> None:
        if self.payment is not None:
            raise WrongOrderStep("this order already has a payment intent")
        self._intent_attached(
            provider=provider,
            intent_id=intent_id,
            client_secret=client_secret,
            amount_minor=amount_minor,
        )

    def pay(self, charge_id: str = "") -> None:
        """The payment succeeded; `charge_id` is the provider's charge that holds the money."""
        if self.status != OrderStatus.PENDING_PAYMENT:
            raise WrongOrderStep(f"cannot pay an order that is {self.status}")
        self._paid(charge_id=charge_id)

    @property
    def intent_id(self) -> str:
        if self.payment is None:
            raise WrongOrderStep(f"order {self.id} has no payment intent")
        return str(self.payment["intent_id"])

    def record_payment_returned(
        self,
        provider_refund_id: str,
        amount_minor: int,
        currency: str,
        reason: str,
        *,
        late: bool = False,
    ) -> None:
        """Money went back to the buyer through the provider. `late`: it paid an order that had
        been cancelled already. The same provider refund recorded again changes nothing."""
        if provider_refund_id in self.returned:
            return
        if late and self.status != OrderStatus.CANCELLED:
            raise WrongOrderStep("only a payment for a cancelled order is returned as late")
        self._payment_returned(
            provider_refund_id=provider_refund_id,
            amount_minor=amount_minor,
            currency=currency,
            reason=reason,
            late=late,
        )

    def cancel(self, reason: str) -> None:
        if self.status == OrderStatus.CANCELLED:
            raise WrongOrderStep("the order is already cancelled")
        self._cancelled(reason=reason)

    def check_payment(self, amount_minor: int, currency: str) -> str | None:
        """What is wrong with a payment for this order, or None when it matches."""
        if currency.upper() != self.currency or amount_minor != self.total_minor:
            return (
                f"paid {amount_minor} {currency.upper()}, "
                f"expected {self.total_minor} {self.currency}"
            )
        return None

    def flag_for_review(self, reason: str) -> None:
        """Something about the payment does not add up: a person must look before it counts."""
        self._flagged(reason=reason)

    def is_overdue(self, now: datetime) -> bool:
        return self.status == OrderStatus.PENDING_PAYMENT and now >= self.expires_at

    @event(PaymentIntentAttached)
    def _intent_attached(
        self, provider: str, intent_id: str, client_secret: str, amount_minor: int
    ) -> None:
        self.payment = {
            "provider": provider,
            "intent_id": intent_id,
            "client_secret": client_secret,
            "amount_minor": amount_minor,
        }

    @event(Paid)
    def _paid(self, charge_id: str) -> None:
        self.status = OrderStatus.PAID.value
        self.charge_id = charge_id
        # A payment is only taken when it is the order's total (`check_payment`): that is the
        # charge disputes and fees are bounded by, even after a cancellation paid it back.
        self.charged_minor = self.total_minor

    @event(PaymentReturned)
    def _payment_returned(
        self, provider_refund_id: str, amount_minor: int, currency: str, reason: str, late: bool
    ) -> None:
        self.returned[provider_refund_id] = amount_minor
        self.late_payment_returned = self.late_payment_returned or late
        if late:
            self.charged_minor = amount_minor  # the order was never paid: this was its charge

    @event(FlaggedForReview)
    def _flagged(self, reason: str) -> None:
        self.review_reasons.append(reason)

    @event(Cancelled)
    def _cancelled(self, reason: str) -> None:
        self.status = OrderStatus.CANCELLED.value


@dataclass(frozen=True)
class PricedShipping:
    """A seller's shipping in an order: the rate's quote, and the commission rate taken on it
    (0 unless the tenant takes commission on shipping)."""

    quote: Quote
    commission_bps: int = 0

    @property
    def commission_minor(self) -> int:
        return commission_of(self.quote.price_minor, self.commission_bps)


def subtotals(lines: list[PricedLine]) -> dict[UUID, int]:
    """Each seller's items in a cart, priced: what its shipping is quoted for."""
    totals: dict[UUID, int] = defaultdict(int)
    for line in lines:
        totals[line.seller_id] += line.total_minor
    return dict(totals)


def place(
    *,
    order_id: UUID,
    tenant_id: UUID,
    idempotency_key: str,
    buyer_id: UUID,
    cart_id: UUID,
    lines: list[PricedLine],
    shipping_address: dict[str, str],
    expires_at: datetime,
    shipping: Mapping[UUID, PricedShipping | None] | None = None,
    guest_email: str = "",
) -> tuple[Order, list[SellerOrder]]:
    """Splits priced lines into one seller order per seller, under one order, each with its
    shipping (`shipping` by seller; none: it ships at no charge). `order_id` is
    `Order.create_id(tenant_id, buyer_id, idempotency_key)`, which the caller derives once: it
    needs it first, to see whether this checkout ran already."""
    currencies = {line.currency for line in lines}
    if len(currencies) != 1:
        raise MixedCurrencies(f"a cart must be in one currency, this one has {sorted(currencies)}")
    (currency,) = currencies
    by_seller: dict[UUID, list[PricedLine]] = defaultdict(list)
    for line in lines:
        by_seller[line.seller_id].append(line)
    seller_orders = []
    for seller_id, seller_lines in by_seller.items():
        ordered = [line.ordered(hold_id_for(order_id, line.key)) for line in seller_lines]
        subtotal = sum(line.line_total_minor for line in ordered)
        commission = sum(line.commission_minor for line in ordered)
        shipped = (shipping or {}).get(seller_id)
        shipping_minor = shipped.quote.price_minor if shipped else 0
        if shipped is not None:
            if shipped.quote.currency != currency:
                raise MixedCurrencies(f"shipping is in {shipped.quote.currency}, not {currency}")
            commission += shipped.commission_minor
        seller_orders.append(
            SellerOrder(
                tenant_id=tenant_id,
                order_id=order_id,
                buyer_id=buyer_id,
                seller_id=seller_id,
                currency=currency,
                lines=[line.as_record() for line in ordered],
                subtotal_minor=subtotal,
                commission_minor=commission,
                seller_net_minor=subtotal + shipping_minor - commission,
                shipping_minor=shipping_minor,
                shipping=shipped.quote.as_record() if shipped else None,
            )
        )
    order = Order(
        tenant_id=tenant_id,
        idempotency_key=idempotency_key,
        buyer_id=buyer_id,
        cart_id=cart_id,
        currency=currency,
        total_minor=sum(so.gross_minor for so in seller_orders),
        seller_order_ids=[so.id for so in seller_orders],
        shipping_address=dict(shipping_address),
        expires_at=expires_at,
        guest_email=guest_email,
    )
    assert order.id == order_id, "order_id must be Order.create_id(tenant, buyer, key)"
    return order, seller_orders
