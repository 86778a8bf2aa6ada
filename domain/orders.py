"""Orders: one buyer's checkout, split into one seller order per seller (domain/seller_orders.py).

The order itself tracks payment; what it looks like to the buyer (paid, fulfilled, completed...)
is derived from its seller orders (`order_status`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.base import TenantAggregate
from domain.commission import commission_of
from domain.discounts import LineDiscount
from domain.errors import NotFound
from domain.order_lines import (
    MixedCurrencies,
    OrderError,
    PricedLine,
    WrongOrderStep,
    hold_id_for,
)
from domain.seller_orders import S, SellerOrder
from domain.shipping import Quote


class OrderNotFound(OrderError, NotFound):
    title = "Order not found"


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
        # The promotions it used (domain/promotions.py): their uses come back if it is
        # cancelled or expires.
        promotion_ids: list[UUID]
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["guest_email"] = ""

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["promotion_ids"] = []

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
        promotion_ids: list[UUID] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.promotion_ids = list(promotion_ids or [])
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
    """A seller's shipping in an order: the rate's quote, the commission rate taken on it (0
    unless the tenant takes commission on shipping), and what free-shipping promotions take off
    it (domain/promotions.py)."""

    quote: Quote
    commission_bps: int = 0
    discount: LineDiscount = field(default_factory=LineDiscount)

    @property
    def sellers_minor(self) -> int:
        """The seller's shipping: the quote less what the seller funds of its discounts."""
        return self.quote.price_minor - self.discount.seller_minor

    @property
    def commission_minor(self) -> int:
        return commission_of(self.sellers_minor, self.commission_bps)


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
    taxed_at: tuple[str, str] = ("", ""),
    promotion_ids: list[UUID] | None = None,
) -> tuple[Order, list[SellerOrder]]:
    """Splits priced lines into one seller order per seller, under one order, each with its
    shipping (`shipping` by seller; none: it ships at no charge) and the tax of its lines
    (priced in, taxed at `taxed_at`: the address's country and subdivision). `order_id` is
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
        subtotal = sum(line.goods_minor for line in ordered)
        commission = sum(line.commission_minor for line in ordered)
        shipped = (shipping or {}).get(seller_id)
        shipping_minor = shipped.sellers_minor if shipped else 0
        shipping_off = shipped.discount if shipped else LineDiscount()
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
                tax_minor=sum(line.tax_minor for line in ordered),
                tax_country=taxed_at[0],
                tax_region=taxed_at[1],
                discount_minor=sum(line.discount_minor for line in ordered) + shipping_off.minor,
                platform_funding_minor=(
                    sum(line.platform_funding_minor for line in ordered)
                    + shipping_off.platform_minor
                ),
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
        promotion_ids=list(promotion_ids or []),
    )
    assert order.id == order_id, "order_id must be Order.create_id(tenant, buyer, key)"
    return order, seller_orders
