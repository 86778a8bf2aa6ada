"""The checkout application: checkout, payment outcomes, cancellation and expiry; and carts
(services/carts.py).

Checkout saves the order, its seller orders, every stock hold and the closed cart in one atomic
save. Stock is guarded by optimistic concurrency: when another checkout changed a stock first, the
save conflicts and the whole checkout runs again on fresh state, so no unit is ever held twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain import checkout as order_rules
from domain import discounts as discount_rules
from domain import escrow
from domain.carts import GuestEmailRequired
from domain.checkout import PaymentOutcome
from domain.credentials import normalize_email
from domain.discounts import Candidate
from domain.identity import EmailClaim, Tenant, TenantNotFound
from domain.inventory import InsufficientStock, ReleaseReason, Stock, hold_expiry
from domain.money import Money
from domain.order_lines import LineUnavailable, PricedLine
from domain.orders import Order, OrderNotFound, PricedShipping, place, subtotals
from domain.payments import (
    PaymentIntentRef,
    PaymentProvider,
)
from domain.profiles import AddressNotFound, Profile
from domain.promotions import Promotion, PromotionUnavailable
from domain.seller_orders import SellerOrder
from domain.shipping import ShippingProfile, shipping_for
from domain.tax import REGIONS
from eventstore.application import CommandResult, PriceAgain, command
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from services.carts import CartCommands, Pricing
from services.ownership import buys
from services.provider_events import ProviderEvents
from services.settlements import settlement_of


@dataclass(frozen=True)
class Checkout:
    order: Order
    seller_orders: list[SellerOrder]
    position: int


class CheckoutApplication(CartCommands, ProviderEvents):
    name = "checkout"

    def __init__(self, log: EventLog, payments: PaymentProvider, **kwargs: object) -> None:
        super().__init__(log, **kwargs)  # type: ignore[arg-type]
        self.payments = payments

    # -- checkout -------------------------------------------------------------------------------

    def guest_order(self, order_id: UUID, tenant_id: UUID) -> bool:
        """Whether the order is a guest's, of this tenant (the order token was checked by
        then)."""
        order = self.read_or_none(order_id)
        return isinstance(order, Order) and bool(order.guest_email) and order.tenant_id == tenant_id

    @command
    def checkout(
        self,
        ctx: CommandContext,
        *,
        tenant_id: UUID,
        buyer_id: UUID,
        cart_id: UUID,
        shipping_address: dict[str, str] | UUID,
        idempotency_key: str,
        shipping: Mapping[UUID, UUID] | None = None,
        guest_email: str = "",
    ) -> Checkout:
        """Places the order for the buyer's cart (or finds the one this key placed already) and
        attaches its payment intent.

        A checkout is kept from running twice by two mechanisms, each for its own failure:
        - the HTTP layer's Idempotency-Key store (api/idempotency.py) answers a repeat of a
          request that finished with the first response, byte for byte, and a repeat of one
          still running with 409; it is what a client sees, for every POST, for 24 hours;
        - the order's id, derived here once from (tenant, buyer, Idempotency-Key), makes the
          checkout idempotent in the log itself: when the stored response is not there to
          replay (the first attempt crashed mid-request, answered 5xx, or its key expired), a
          repeat resumes the same order instead of placing a second, and the payment intent's
          provider key derives from that id, so the provider also sees one intent.

        `shipping_address` is the address itself or the id of one the buyer saved; a saved one
        is read from the buyer's profile when the order is placed, and copied into it.
        `shipping` names the rate chosen for each seller that has rates (domain/shipping.py).
        A guest's checkout (the buyer is a guest cart's) names the email to write to."""
        order_id = Order.create_id(tenant_id, buyer_id, idempotency_key)

        def place_unless_placed() -> None:
            if self.read_or_none(order_id) is None:
                self._place(
                    ctx,
                    order_id,
                    tenant_id,
                    buyer_id,
                    cart_id,
                    shipping_address,
                    idempotency_key,
                    shipping or {},
                    guest_email,
                )

        self.retrying(
            place_unless_placed, "too many concurrent checkouts for these products; try again"
        )
        return self._with_payment_intent(ctx, order_id)

    def _place(
        self,
        ctx: CommandContext,
        order_id: UUID,
        tenant_id: UUID,
        buyer_id: UUID,
        cart_id: UUID,
        shipping_address: dict[str, str] | UUID,
        idempotency_key: str,
        shipping: Mapping[UUID, UUID],
        guest_email: str,
    ) -> None:
        tenant = self.load(Tenant, tenant_id, tenant_id, TenantNotFound, reading=True)
        if isinstance(shipping_address, UUID):
            shipping_address = self._saved_address(buyer_id, shipping_address)
        cart = self._own_cart(cart_id, buyer_id)
        country = shipping_address["country"]
        taxed_at = (country, REGIONS.of_address(country, shipping_address.get("region", "")))
        pricing = Pricing.of(tenant, taxed_at)
        lines = [
            self._priced(tenant.id, pricing, cart.products[variant_id], variant_id, quantity)
            for variant_id, quantity in cart.lines.items()
        ]
        quotes = self._shipping(tenant, lines, shipping, country)
        buyer_ref = (
            f"guest:{EmailClaim.digest(guest_email)}"
            if cart.guest and guest_email
            else str(buyer_id)
        )
        promotions = self._promotions(cart)
        now = datetime.now(UTC)
        applied = discount_rules.apply_all(
            [Candidate.of(p, by_code, buyer_ref, now) for p, by_code in promotions],
            [line.discountable for line in lines],
            {s: q.quote.price_minor for s, q in quotes.items() if q is not None},
        )
        used = [p for p, _ in promotions if p.id in {d.promotion_id for d in applied.discounts}]
        lines = [
            replace(line, discount=applied.lines.get(line.key, line.discount)) for line in lines
        ]
        for seller_id, off in applied.shipping.items():
            quoted = quotes[seller_id]
            assert quoted is not None
            quotes[seller_id] = replace(quoted, discount=off)
        order, seller_orders = place(
            order_id=order_id,
            tenant_id=tenant_id,
            idempotency_key=idempotency_key,
            buyer_id=buyer_id,
            cart_id=cart.id,
            lines=lines,
            shipping_address=shipping_address,
            expires_at=hold_expiry(datetime.now(UTC), tenant.hold_timeout_s),
            shipping=quotes,
            guest_email=normalize_email(guest_email) if cart.guest and guest_email else "",
            taxed_at=taxed_at,
            promotion_ids=[p.id for p in used],
        )
        if cart.guest and not guest_email:
            raise GuestEmailRequired("a guest's checkout needs the email to send the order to")
        cart.check_out(order.id)
        held = [line for seller_order in seller_orders for line in seller_order.order_lines]
        stock_ids = [line.stock for line in held]
        limited = [p.id for p in used if p.counts_uses]
        # A promotion's uses, as a stock's units, are counted one checkout at a time in this
        # process, on its current state (and by its version across processes).
        with self._log.aggregates.writing([*stock_ids, *limited]):
            counted: list[Promotion] = [self.repository.get(p) for p in limited]
            coded = {p.id for p, by_code in promotions if by_code}
            for promotion in counted:
                try:
                    promotion.redeem(order_id, buyer_ref, now)
                except PromotionUnavailable:
                    if promotion.id in coded:
                        raise
                    # An automatic one used up since it was priced in: price the order again
                    # without it (the buyer never asked for it).
                    raise PriceAgain(f"promotion {promotion.id} was used up") from None
            stocks = []
            for line in held:
                stock = self._stock(line.stock)
                try:
                    stock.take_hold(line.hold_id, order.id, line.quantity, order.expires_at)
                except InsufficientStock as e:
                    raise LineUnavailable(
                        f"line {line.variant_id} ({line.title}): {e.available} available, "
                        f"{e.wanted} wanted"
                    ) from None
                stocks.append(stock)
            self.record(ctx, order, *seller_orders, *stocks, *counted, cart)

    def _shipping(
        self, tenant: Tenant, lines: list[PricedLine], chosen: Mapping[UUID, UUID], country: str
    ) -> dict[UUID, PricedShipping | None]:
        """Each seller's shipping to `country`: the rate chosen for a seller with rates, at
        the commission the tenant takes on shipping (domain/shipping.py)."""
        totals = subtotals(lines)
        profiles = {
            seller_id: self.read_or_none(ShippingProfile.create_id(seller_id))
            for seller_id in {*totals, *chosen}
        }
        quotes = shipping_for(
            {k: p if isinstance(p, ShippingProfile) else None for k, p in profiles.items()},
            totals,
            chosen,
            country,
        )
        priced: dict[UUID, PricedShipping | None] = {}
        for seller_id, quote in quotes.items():
            if quote is None:
                priced[seller_id] = None
                continue
            seller: Any = self.read_or_none(seller_id)
            bps = tenant.shipping_commission_bps(
                seller.commission_bps, seller.commission_discount_bps
            )
            priced[seller_id] = PricedShipping(quote, bps)
        return priced

    def _saved_address(self, buyer_id: UUID, address_id: UUID) -> dict[str, str]:
        profile = self.read_or_none(Profile.create_id(buyer_id))
        if not isinstance(profile, Profile):
            raise AddressNotFound(f"address {address_id} not found")
        return profile.address(address_id)

    def _with_payment_intent(self, ctx: CommandContext, order_id: UUID) -> Checkout:
        order: Order = self.repository.get(order_id)
        position = 0
        if order.payment is None and order.total_minor == 0:
            # Promotions left the buyer nothing to pay: no provider can collect 0, so the order
            # is paid at once (its stock sold, and what the platform funds into escrow).
            if order.status == "pending_payment":
                position = self._changing_order(
                    ctx, order.id, None, lambda o, parts: self._pay(o, parts, charge_id="")
                ).position
            order = self.repository.get(order_id)
        elif order.payment is None:
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
        """A payment succeeded (held units are sold, the money enters escrow) or failed (the
        order is cancelled and its holds released)."""

        def settle(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if succeeded:
                return self._pay(order, seller_orders, charge_id="")
            return self._cancel(
                order, seller_orders, "payment_failed", ReleaseReason.PAYMENT_FAILED
            )

        return self._changing_order(ctx, order_id, within, settle)

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
            outcome = order_rules.outcome_of_payment(
                order, succeeded=succeeded, amount_minor=amount_minor, currency=currency
            )
            if outcome == PaymentOutcome.PAID:
                changed = self._pay(order, seller_orders, charge_id)
            elif outcome == PaymentOutcome.CANCELLED:
                changed = self._cancel(
                    order, seller_orders, "payment_failed", ReleaseReason.PAYMENT_FAILED
                )
            elif outcome == PaymentOutcome.REFUNDED:
                changed = self._return_late_payment(order, Money(amount_minor, currency.upper()))
            else:
                changed = []
            return outcome.value, [*seller_orders, *changed]

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
        """Records a provider event that a person must look at (a refund made outside Velora)
        by flagging the order for review, exactly once."""

        def decide(order: Order) -> tuple[str, list[Any]]:
            order.flag_for_review(reason)
            return "flagged", []

        return self._once(ctx, provider, event_id, event_type, intent_id, decide)

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

    def _pay(self, order: Order, seller_orders: list[SellerOrder], charge_id: str) -> list[Any]:
        books = Books(self.repository, order.tenant_id, order.currency)
        changed = order_rules.pay(order, seller_orders, books, self._stock, charge_id)
        return [*changed, *books.changed()]

    @command
    def cancel(
        self, ctx: CommandContext, order_id: UUID, within: UUID | None, buyer_id: UUID | None
    ) -> CommandResult:
        """Cancels before any shipment: holds are released, sold units return to stock, and
        what was paid goes back to the buyer through the provider."""

        def cancel(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if buyer_id is not None and not buys(self, order, buyer_id):
                raise OrderNotFound(f"order {order_id} not found")
            return self._cancel(order, seller_orders, "cancelled", ReleaseReason.CANCELLED)

        return self._changing_order(ctx, order_id, within, cancel)

    @command
    def expire(self, ctx: CommandContext, order_id: UUID, now: datetime) -> CommandResult | None:
        """Cancels an order whose payment did not arrive in time; None if it is not overdue."""

        def expire(order: Order, seller_orders: list[SellerOrder]) -> list[Any]:
            if not order.is_overdue(now):
                raise _NotOverdue
            return self._cancel(order, seller_orders, "expired", ReleaseReason.EXPIRED)

        try:
            return self._changing_order(ctx, order_id, None, expire)
        except _NotOverdue:
            return None

    def _cancel(
        self, order: Order, seller_orders: list[SellerOrder], reason: str, release: ReleaseReason
    ) -> list[Any]:
        books = Books(self.repository, order.tenant_id, order.currency)
        loaders = order_rules.Loaders(
            self._stock,
            self.repository.get,
            lambda so: settlement_of(self, so),
            self.repository.get,
        )
        done = order_rules.cancel(order, seller_orders, books, loaders, reason, release)
        if done.paid_back_minor:
            refund_id = self.payments.refund(
                intent_id=order.intent_id,
                amount=Money(done.paid_back_minor, order.currency),
                idempotency_key=f"velora-cancel-{order.id}",
            )
            order.record_payment_returned(refund_id, done.paid_back_minor, order.currency, reason)
        return [*done.changed, *books.changed()]

    def _changing_order(
        self,
        ctx: CommandContext,
        order_id: UUID,
        within: UUID | None,
        change: Callable[[Order, list[SellerOrder]], list[Any]],
    ) -> CommandResult:
        """Loads an order and its seller orders, lets `change` decide (it returns the other
        aggregates it changed) and saves them all, again on fresh state after a conflict."""

        def attempt() -> CommandResult:
            order = self.load(Order, order_id, within, OrderNotFound)
            seller_orders: list[SellerOrder] = [
                self.repository.get(i) for i in order.seller_order_ids
            ]
            others = change(order, seller_orders)
            return CommandResult(order.id, self.record(ctx, order, *seller_orders, *others))

        return self.retrying(
            attempt, "too many concurrent changes to this order's stock; try again"
        )

    # -- helpers --------------------------------------------------------------------------------

    def _stock(self, stock_id: UUID) -> Stock:
        stock: Stock = self.repository.get(stock_id)
        return stock


class _NotOverdue(Exception):
    pass
