"""The rules that span an order, its seller orders, their stock and escrow: what a provider's
payment means for an order, paying it, and cancelling it. Placing an order is `place()` in
domain/orders.py.

Each function decides and changes the aggregates it is given; the application loads them (and
hands in `stock_of` and `refund_of` to load more by id), calls the function, talks to the payment
provider where the outcome says so, and saves everything changed in one atomic save."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain import escrow
from domain.errors import DomainError
from domain.inventory import ReleaseReason, Stock
from domain.ledger import Books
from domain.money import Money
from domain.order_lines import WrongOrderStep
from domain.orders import Order, OrderStatus
from domain.promotions import Promotion
from domain.refunds import Refund
from domain.seller_orders import SellerOrder, SellerOrderStatus
from domain.settlement import Settlement

StockOf = Callable[[UUID], Stock]
RefundOf = Callable[[UUID], Refund]


@dataclass(frozen=True)
class Loaders:
    """How a rule that spans aggregates loads more of them by id."""

    stock_of: StockOf
    refund_of: RefundOf
    settlement_of: Callable[[SellerOrder], Settlement | None]
    promotion_of: Callable[[UUID], Promotion]


class PaymentOutcome(StrEnum):
    """What a provider's payment event did to its order (the webhook answers it)."""

    PAID = "paid"  # the order is paid: stock sold, money in escrow
    CANCELLED = "cancelled"  # the payment failed: the order is cancelled, its holds released
    REFUNDED = "refunded"  # it paid an order already cancelled: the money goes straight back
    FLAGGED = "flagged"  # the money does not match the order: a person must look
    IGNORED = "ignored"  # nothing to do: a repeat, or a failure after success


def outcome_of_payment(
    order: Order, *, succeeded: bool, amount_minor: int, currency: str
) -> PaymentOutcome:
    """Decides what a provider's payment event means for the order. A payment that does not add
    up flags the order here; every other outcome is carried out by the caller (`pay`,
    `cancel`, or returning a late payment through the provider)."""
    if not succeeded:
        if order.status != OrderStatus.PENDING_PAYMENT:
            return PaymentOutcome.IGNORED  # a failure after success, or for a cancelled order
        return PaymentOutcome.CANCELLED
    try:
        paid = Money(amount_minor, currency.upper())  # Stripe writes currencies in lower case
    except DomainError:
        order.flag_for_review(f"payment of {amount_minor} in unknown currency {currency!r}")
        return PaymentOutcome.FLAGGED
    if order.status == OrderStatus.CANCELLED:
        if order.charged_minor or order.late_payment_returned:
            # Its intent succeeded once already (paid before the cancellation, or a late
            # payment returned): this is a stray repeat, and there is nothing more to return.
            return PaymentOutcome.IGNORED
        mismatch = late_payment_mismatch(order, paid)
        if mismatch is not None:
            order.flag_for_review(f"late payment does not match the intent: {mismatch}")
            return PaymentOutcome.FLAGGED
        return PaymentOutcome.REFUNDED
    mismatch = order.check_payment(paid.amount_minor, paid.currency)
    if mismatch is not None:
        order.flag_for_review(f"payment does not match the order: {mismatch}")
        return PaymentOutcome.FLAGGED
    if order.status == OrderStatus.PAID:
        return PaymentOutcome.IGNORED
    return PaymentOutcome.PAID


def late_payment_mismatch(order: Order, paid: Money) -> str | None:
    """What is wrong with a payment that arrived after its order was cancelled, or None when it
    is what the order's payment intent asked for: only that much goes back through the
    provider and the ledger, never an amount the event alone names."""
    intended = int(order.payment["amount_minor"]) if order.payment else order.total_minor
    if paid.currency != order.currency or paid.amount_minor != intended:
        return (
            f"paid {paid.amount_minor} {paid.currency}, the intent was {intended} {order.currency}"
        )
    return None


def pay(
    order: Order,
    seller_orders: list[SellerOrder],
    books: Books,
    stock_of: StockOf,
    charge_id: str,
) -> list[Any]:
    """The order is paid: each seller order's held units are sold and its money enters its
    seller's escrow, in a new settlement. Returns the stocks and settlements changed."""
    order.pay(charge_id)
    changed: list[Any] = []
    for seller_order in seller_orders:
        seller_order.pay()
        settlement = Settlement.fund(seller_order)
        escrow.receive_payment(books, settlement)
        changed.append(settlement)
        for stock_id, hold_id in seller_order.holds:
            stock = stock_of(stock_id)
            stock.sell(hold_id)
            changed.append(stock)
    return changed


@dataclass
class Cancellation:
    """What cancelling changed besides the order and its seller orders, and what must go back
    to the buyer through the provider."""

    changed: list[Any] = field(default_factory=list)
    paid_back_minor: int = 0


def cancel(
    order: Order,
    seller_orders: list[SellerOrder],
    books: Books,
    loaders: Loaders,
    reason: str,
    release: ReleaseReason,
) -> Cancellation:
    """Cancels an order with nothing shipped yet: refund requests still open are rejected
    (everything paid goes back anyway), held units are released and sold ones return to stock,
    and a paid seller order's money leaves escrow. The caller refunds `paid_back_minor`."""
    shipped = [
        so.id
        for so in seller_orders
        if so.status not in (SellerOrderStatus.PENDING_PAYMENT, SellerOrderStatus.PAID)
    ]
    if shipped or order.status == OrderStatus.CANCELLED:
        raise WrongOrderStep("only an order with nothing shipped yet can be cancelled")
    done = Cancellation()
    for seller_order in seller_orders:
        was_paid = seller_order.status == SellerOrderStatus.PAID
        settlement = loaders.settlement_of(seller_order)
        seller_order.cancel(reason)
        if settlement is not None:
            done.changed += _reject_refund_requests(settlement, loaders.refund_of)
            # What escrow holds leaves it even when the buyer gets nothing back: an order
            # promotions made free holds what the platform funded, and pending transfers of it.
            held = settlement.escrow_is_held
            returned = settlement.cancel()
            if held:
                escrow.refund_cancelled(books, settlement)
            done.paid_back_minor += returned
            done.changed.append(settlement)
        for stock_id, hold_id in seller_order.holds:
            stock = loaders.stock_of(stock_id)
            if was_paid:
                stock.reverse_sale(hold_id)
            else:
                stock.release(hold_id, release)
            done.changed.append(stock)
    for promotion_id in order.promotion_ids:  # their uses come back
        promotion = loaders.promotion_of(promotion_id)
        promotion.release(order.id)
        done.changed.append(promotion)
    order.cancel(reason)
    return done


def _reject_refund_requests(settlement: Settlement, refund_of: RefundOf) -> list[Refund]:
    rejected = []
    for refund_id in [UUID(r) for r in settlement.requested_refunds]:
        settlement.reject_refund(refund_id)
        refund = refund_of(refund_id)
        refund.reject("the order was cancelled and everything paid was refunded")
        rejected.append(refund)
    return rejected
