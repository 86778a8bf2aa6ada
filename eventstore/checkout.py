"""The checkout application: carts, checkout, payment outcomes, cancellation and expiry.

Checkout saves the order, its seller orders, every stock hold and the closed cart in one atomic
save. Stock is guarded by optimistic concurrency: when another checkout changed a stock first, the
save conflicts and the whole checkout runs again on fresh state, so no unit is ever held twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain import escrow
from domain.carts import Cart, CartNotFound
from domain.catalog import Product, ProductNotFound
from domain.errors import Conflict, DomainError
from domain.identity import Tenant, TenantNotFound
from domain.inventory import InsufficientStock, ReleaseReason, Stock
from domain.money import Money
from domain.orders import (
    LineUnavailable,
    Order,
    OrderNotFound,
    OrderStatus,
    PricedLine,
    SellerOrder,
    SellerOrderStatus,
    WrongOrderStep,
    place,
)
from domain.payments import (
    PaymentIntentRef,
    PaymentProvider,
    ProviderEventReceipt,
    UnknownPaymentIntent,
)
from domain.refunds import Refund
from domain.sellers import Seller
from eventstore.application import CommandResult, VeloraApplication, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog

MAX_ATTEMPTS = 80


class Contention(Conflict):
    title = "Too much contention"


@dataclass(frozen=True)
class Checkout:
    order: Order
    seller_orders: list[SellerOrder]
    position: int


class CheckoutApplication(VeloraApplication):
    name = "checkout"

    def __init__(self, log: EventLog, payments: PaymentProvider, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self.payments = payments

    # -- carts ----------------------------------------------------------------------------------

    @command
    def open_cart(self, ctx: CommandContext, tenant_id: UUID, buyer_id: UUID) -> CommandResult:
        cart = Cart(tenant_id=tenant_id, buyer_id=buyer_id)
        return CommandResult(cart.id, self.record(ctx, cart))

    @command
    def set_quantity(
        self, ctx: CommandContext, cart_id: UUID, buyer_id: UUID, product_id: UUID, quantity: int
    ) -> CommandResult:
        cart = self._own_cart(cart_id, buyer_id)
        if quantity and self._buyable(product_id, cart.tenant_id) is None:
            # Hidden from buyers (pending, rejected, its seller suspended): as if unknown.
            raise ProductNotFound(f"product {product_id} not found")
        cart.set_quantity(product_id, quantity)
        return CommandResult(cart.id, self.record(ctx, cart))

    # -- checkout -------------------------------------------------------------------------------

    @command
    def checkout(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        buyer_id: UUID,
        cart_id: UUID,
        shipping_address: dict[str, str],
        idempotency_key: str,
    ) -> Checkout:
        order_id = Order.create_id(tenant_id, buyer_id, idempotency_key)
        for attempt in range(MAX_ATTEMPTS):
            if self.read_or_none(order_id) is None:
                try:
                    self._place(
                        ctx, tenant_id, buyer_id, cart_id, shipping_address, idempotency_key
                    )
                except IntegrityError:
                    # Someone changed a stock or the cart first: run again on fresh state.
                    self.pause_after_conflict(attempt)
                    continue
            return self._with_payment_intent(ctx, order_id)
        raise Contention("too many concurrent checkouts for these products; try again")

    def _place(
        self,
        ctx: CommandContext,
        tenant_id: UUID,
        buyer_id: UUID,
        cart_id: UUID,
        shipping_address: dict[str, str],
        idempotency_key: str,
    ) -> None:
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound, reading=True)
        cart = self._own_cart(cart_id, buyer_id)
        lines = [self._priced(tenant, product_id, qty) for product_id, qty in cart.lines.items()]
        order, seller_orders = place(
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            buyer_id=buyer_id,
            cart_id=cart.id,
            lines=lines,
            shipping_address=shipping_address,
            expires_at=datetime.now(UTC) + timedelta(seconds=tenant.hold_timeout_s),
        )
        cart.check_out(order.id)
        held = [line for seller_order in seller_orders for line in seller_order.lines]
        stock_ids = [Stock.create_id(UUID(line["product_id"])) for line in held]
        with self._log.aggregates.writing(stock_ids):
            stocks = []
            for line in held:
                stock = self._stock(UUID(line["product_id"]))
                try:
                    stock.take_hold(line["hold_id"], order.id, line["quantity"], order.expires_at)
                except InsufficientStock as e:
                    raise LineUnavailable(
                        f"line {line['product_id']} ({line['title']}): {e.available} available, "
                        f"{e.wanted} wanted"
                    ) from None
                stocks.append(stock)
            self.record(ctx, order, *seller_orders, *stocks, cart)

    def _priced(self, tenant: Tenant, product_id: UUID, quantity: int) -> PricedLine:
        buyable = self._buyable(product_id, tenant.id)
        if buyable is None:
            raise LineUnavailable(f"line {product_id}: this product cannot be bought now")
        product, seller = buyable
        rate = tenant.commission_rules().rate(
            product_bps=product.commission_bps,
            category=product.category,
            seller_bps=seller.commission_bps,
        )
        return PricedLine(
            product.id,
            seller.id,
            product.title,
            quantity,
            product.price_minor,
            product.currency,
            rate,
        )

    def _with_payment_intent(self, ctx: CommandContext, order_id: UUID) -> Checkout:
        order: Order = self.repository.get(order_id)
        position = 0
        if order.payment is None:
            intent = self.payments.create_intent(
                order_id=order.id,
                amount=Money(order.total_minor, order.currency),
                idempotency_key=f"velora-order-{order.id}",
            )
            order.attach_payment_intent(
                intent.provider, intent.intent_id, intent.client_secret, intent.amount.amount_minor
            )
            try:
                ref = PaymentIntentRef(
                    tenant_id=order.tenant_id,
                    provider=intent.provider,
                    intent_id=intent.intent_id,
                    order_id=order.id,
                )
                position = self.record(ctx, order, ref)
            except IntegrityError:
                order = self.repository.get(order_id)  # a concurrent repeat attached it first
        if not position:
            # A repeat: nothing new was recorded, so answer the log's current position.
            position = self._log.head()
        seller_orders: list[SellerOrder] = [self.repository.get(i) for i in order.seller_order_ids]
        return Checkout(order, seller_orders, position)

    # -- payment outcomes, cancellation, expiry -------------------------------------------------

    @command
    def record_payment(
        self, ctx: CommandContext, order_id: UUID, *, succeeded: bool, within: UUID | None = None
    ) -> CommandResult:
        """A payment succeeded (holds become sales, escrow is held) or failed (the order is
        cancelled and its holds released)."""

        def settle(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if succeeded:
                return self._settle_paid(order, seller_orders, charge_id="")
            return self._cancel_all(
                order, seller_orders, "payment_failed", ReleaseReason.PAYMENT_FAILED
            )

        return self._retrying(ctx, order_id, within, settle)

    @command
    def apply_payment_event(
        self,
        ctx: CommandContext,
        *,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        amount_minor: int,
        currency: str,
        succeeded: bool,
        charge_id: str = "",
    ) -> str:
        """Applies a provider's payment event exactly once and says what it did: paid,
        cancelled, refunded (it paid an order already cancelled), flagged (the money does not
        match the order), ignored, or duplicate."""

        def decide(order: Order) -> tuple[str, list[Any]]:
            seller_orders: list[SellerOrder] = [
                self.repository.get(i) for i in order.seller_order_ids
            ]
            outcome, changed = self._outcome(
                order, seller_orders, succeeded, amount_minor, currency, charge_id
            )
            return outcome, [*seller_orders, *changed]

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

    @command
    def flag_from_provider(
        self,
        ctx: CommandContext,
        *,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        reason: str,
    ) -> str:
        """Records a provider event that a person must look at (a dispute, a refund made outside
        Velora) by flagging the order for review, exactly once."""

        def decide(order: Order) -> tuple[str, list[Any]]:
            order.flag_for_review(reason)
            return "flagged", []

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

    def _once(
        self,
        ctx: CommandContext,
        provider: str,
        event_id: str,
        event_type: str,
        intent_id: str,
        decide: Callable[[Order], tuple[str, list[Any]]],
    ) -> str:
        """Runs `decide` on the intent's order and saves its changes with a receipt whose id
        derives from the provider's event id, so a repeated delivery changes nothing."""
        ref = self.get_or_none(PaymentIntentRef.create_id(provider, intent_id))
        if not isinstance(ref, PaymentIntentRef):
            raise UnknownPaymentIntent(f"no order has payment intent {intent_id}")
        receipt_id = ProviderEventReceipt.create_id(provider, event_id)
        looked_again = False
        for attempt in range(MAX_ATTEMPTS):
            if self.get_or_none(receipt_id) is not None:
                return "duplicate"
            order: Order = self.repository.get(ref.order_id)
            try:
                outcome, changed = decide(order)
            except DomainError:
                # A copy of this event applied by another request since this one looked at the
                # log leaves the order as it was here but its holds as they are now, and they
                # disagree. Look again once: a duplicate is then seen as one, and an error that
                # stands on fresh state is real.
                if looked_again:
                    raise
                looked_again = True
                self._log.aggregates.refresh()
                continue
            receipt = ProviderEventReceipt(
                tenant_id=order.tenant_id,
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                outcome=outcome,
            )
            try:
                self.record(ctx, receipt, order, *changed)
                return outcome
            except IntegrityError:
                self.pause_after_conflict(attempt)
        raise Contention("too many concurrent changes to this order; the provider will retry")

    def _outcome(
        self,
        order: Order,
        seller_orders: list[SellerOrder],
        succeeded: bool,
        amount_minor: int,
        currency: str,
        charge_id: str,
    ) -> tuple[str, list[Any]]:
        if not succeeded:
            if order.status != OrderStatus.PENDING_PAYMENT:
                return "ignored", []  # a failure after success, or for a cancelled order
            return "cancelled", self._cancel_all(
                order, seller_orders, "payment_failed", ReleaseReason.PAYMENT_FAILED
            )
        try:
            paid = Money(amount_minor, currency.upper())  # Stripe writes currencies in lower case
        except DomainError:
            order.flag_for_review(f"payment of {amount_minor} in unknown currency {currency!r}")
            return "flagged", []
        if order.status == OrderStatus.CANCELLED:
            if order.late_payment_returned:
                return "ignored", []  # its intent succeeded once; this is a stray repeat
            return "refunded", self._return_late_payment(order, paid)
        mismatch = order.check_payment(paid.amount_minor, paid.currency)
        if mismatch is not None:
            order.flag_for_review(f"payment does not match the order: {mismatch}")
            return "flagged", []
        if order.status == OrderStatus.PAID:
            return "ignored", []
        return "paid", self._settle_paid(order, seller_orders, charge_id)

    def _return_late_payment(self, order: Order, paid: Money) -> list[Any]:
        """A payment that succeeded after its order was cancelled or expired goes straight back:
        refunded through the provider, and recorded in the ledger as received and returned."""
        refund_id = self.payments.refund(
            intent_id=order.intent_id,
            amount=paid,
            idempotency_key=f"velora-late-payment-{order.intent_id}",
        )
        order.record_payment_returned(
            refund_id,
            paid.amount_minor,
            paid.currency,
            "paid after the order was cancelled",
            late=True,
        )
        books = Books(self.repository, order.tenant_id, paid.currency)
        escrow.return_late_payment(books, f"late-payment:{order.intent_id}", paid.amount_minor)
        return books.changed()

    def _settle_paid(
        self, order: Order, seller_orders: list[SellerOrder], charge_id: str
    ) -> list[Any]:
        order.pay(charge_id)
        changed: list[Any] = []
        books = Books(self.repository, order.tenant_id, order.currency)
        for seller_order in seller_orders:
            seller_order.pay()
            escrow.hold(books, seller_order)
            for product_id, hold_id in seller_order.holds:
                stock = self._stock(product_id)
                stock.sell(hold_id)
                changed.append(stock)
        return changed + books.changed()

    @command
    def cancel(
        self, ctx: CommandContext, order_id: UUID, within: UUID | None, buyer_id: UUID | None
    ) -> CommandResult:
        """Cancels before any shipment: holds are released, sold units return to stock, and
        what was paid goes back to the buyer through the provider."""

        def cancel(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if buyer_id is not None and order.buyer_id != buyer_id:
                raise OrderNotFound(f"order {order_id} not found")
            return self._cancel_all(order, seller_orders, "cancelled", ReleaseReason.CANCELLED)

        return self._retrying(ctx, order_id, within, cancel)

    @command
    def expire(self, ctx: CommandContext, order_id: UUID, now: datetime) -> CommandResult | None:
        """Cancels an order whose payment did not arrive in time; None if it is not overdue."""

        def expire(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if not order.is_overdue(now):
                raise _NotOverdue
            return self._cancel_all(order, seller_orders, "expired", ReleaseReason.EXPIRED)

        try:
            return self._retrying(ctx, order_id, None, expire)
        except _NotOverdue:
            return None

    def _cancel_all(
        self, order: Order, seller_orders: list[SellerOrder], reason: str, release: ReleaseReason
    ) -> list[Any]:
        shipped = [
            so.id
            for so in seller_orders
            if so.status not in (SellerOrderStatus.PENDING_PAYMENT, SellerOrderStatus.PAID)
        ]
        if shipped or order.status == OrderStatus.CANCELLED:
            raise WrongOrderStep("only an order with nothing shipped yet can be cancelled")
        changed: list[Any] = []
        books = Books(self.repository, order.tenant_id, order.currency)
        paid_back = 0
        for seller_order in seller_orders:
            was_paid = seller_order.status == SellerOrderStatus.PAID
            changed += self._close_refund_requests(seller_order)
            seller_order.cancel(reason)
            if was_paid:
                paid_back += seller_order.subtotal_minor - seller_order.refunded_minor
                escrow.refund_cancelled(books, seller_order)
            for product_id, hold_id in seller_order.holds:
                stock = self._stock(product_id)
                if was_paid:
                    stock.reverse_sale(hold_id)
                else:
                    stock.release(hold_id, release)
                changed.append(stock)
        order.cancel(reason)
        if paid_back:
            refund_id = self.payments.refund(
                intent_id=order.intent_id,
                amount=Money(paid_back, order.currency),
                idempotency_key=f"velora-cancel-{order.id}",
            )
            order.record_payment_returned(refund_id, paid_back, order.currency, reason)
        return changed + books.changed()

    def _close_refund_requests(self, seller_order: SellerOrder) -> list[Refund]:
        """Cancelling pays everything back, so refunds still awaiting a decision are rejected."""
        closed = []
        for refund_id in [UUID(r) for r in seller_order.requested_refunds]:
            seller_order.decline_refund(refund_id)
            refund: Refund = self.repository.get(refund_id)
            refund.reject("the order was cancelled and everything paid was refunded")
            closed.append(refund)
        return closed

    def _retrying(
        self, ctx: CommandContext, order_id: UUID, within: UUID | None, change: object
    ) -> CommandResult:
        for attempt in range(MAX_ATTEMPTS):
            order = self.load(Order, order_id, within, OrderNotFound)
            seller_orders: list[SellerOrder] = [
                self.repository.get(i) for i in order.seller_order_ids
            ]
            stocks = change(order, seller_orders)  # type: ignore[operator]
            try:
                return CommandResult(order.id, self.record(ctx, order, *seller_orders, *stocks))
            except IntegrityError:
                self.pause_after_conflict(attempt)
        raise Contention("too many concurrent changes to this order's stock; try again")

    # -- helpers --------------------------------------------------------------------------------

    def _stock(self, product_id: UUID) -> Stock:
        stock: Stock = self.repository.get(Stock.create_id(product_id))
        return stock

    def _own_cart(self, cart_id: UUID, buyer_id: UUID) -> Cart:
        cart = self.get_or_none(cart_id)
        if not isinstance(cart, Cart) or cart.buyer_id != buyer_id:
            raise CartNotFound(f"cart {cart_id} not found")
        return cart

    def _buyable(self, product_id: UUID, tenant_id: UUID) -> tuple[Product, Seller] | None:
        """The product and its seller, if a buyer of this tenant may buy it now."""
        product = self.read_or_none(product_id)
        if not isinstance(product, Product) or product.tenant_id != tenant_id:
            return None
        seller = self.read_or_none(product.seller_id)
        if not product.is_active or not isinstance(seller, Seller) or not seller.can_sell:
            return None
        return product, seller


class _NotOverdue(Exception):
    pass
