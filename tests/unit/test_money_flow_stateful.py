"""Model-based test of the whole money flow, through the real applications and projections on the
embedded store: checkout (with a seller's shipping rate, free from a threshold, its commission
taken or not as the tenant says), payment webhooks (duplicated and out of order), shipping,
delivery and escrow release, partial refunds, returns (rejected, or received in part or whole,
restocked or not), cancellation, payouts, sellers' plans (chosen, changed and left at random
moments, renewed as months pass, renewals repeated), and disputes (of any part of a paid order,
before or after release, won or lost with a fee borne by the sellers or the platform, closed
before they were opened, their events repeated), and hostile provider events (disputes past what
the charge has left, disputes of orders never paid, fees larger than the charge up to 2^63, late
payments of another amount than their intent's, each of which must book nothing and flag the
order) in random interleavings. After every step the books must balance, escrow, payables,
receivables and dispute reserves must not be negative, processor clearing must equal what buyers
paid less refunds, payouts and lost disputes with their fees, no order is paid twice, plan fee
revenue must equal a reference computed from the timeline of plans (each stretch on a plan pro
rata to the second, rounded half to even, each month charged once), a seller's dispute reserve
must hold exactly the released shares its open disputes hold, and a seller's payable never
exceeds what its seller orders have left for payouts to take (a payout's money must come from a
charge).

What goes back to whom is held to the model's own reference (tests/unit/money_reference.py),
which prices every seller order itself and keeps what each refund, return, cancellation and lost
dispute gave back to the buyer, out of `tax_payable` by rate, to the platform's promotions and of
commission, each checked as it moves against what must be true of it (in proportion, within
what is left, all of it with the last), never against the domain's own arithmetic. After every
step each settlement must be what the reference kept, and the ledger must hold what it says is
left: tax payable, promotions, escrow and its pending transfers, commission earned and pending,
and the sellers' money."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from adapters.payments.local import LocalPaymentProvider, card_fee
from api.bootstrap import Container
from domain.commission import commission_of
from domain.disputes import Dispute
from domain.errors import DomainError
from domain.ledger import Chart, account_id
from domain.money import Money
from domain.returns import AskedLine, ReceivedLine
from domain.seller_orders import SellerOrder
from domain.settlement import settlement_id
from domain.tax import TaxTable
from eventstore.context import CommandContext
from projections.scope import TenantScope
from tests.conftest import built, make_settings
from tests.unit.money_reference import Given, Line, SellerOrderRef, check_split, minus

ADDRESS = {"name": "M", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}


def ctx() -> CommandContext:
    return CommandContext.system("model")


def month_end(at: datetime) -> datetime:
    return datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)


def month_seconds(at: datetime) -> int:
    return int((month_end(at) - datetime(at.year, at.month, 1, tzinfo=UTC)).total_seconds())


def fee_for(fee: int, start: datetime, end: datetime) -> int:
    """The reference: a stretch on a plan within one month, pro rata, half to even (Python's
    round of a Fraction rounds half to even)."""
    return round(Fraction(fee * int((end - start).total_seconds()), month_seconds(start)))


class MoneyFlow(RuleBasedStateMachine):
    # Processor fees booked out of clearing (the reconciliation block at the end books them).
    fees_booked = 0

    @initialize(
        commission=st.integers(0, 3000),
        fees=st.tuples(st.integers(0, 5_000), st.integers(1, 99_999)),
        discounts=st.tuples(st.integers(0, 4000), st.integers(0, 10_000)),
        fee_payer=st.sampled_from(["seller", "platform"]),
        shipping=st.tuples(
            st.integers(0, 2_000), st.one_of(st.none(), st.integers(1, 6_000)), st.booleans()
        ),
        tax=st.tuples(st.integers(0, 2_500), st.integers(0, 2_500), st.booleans()),
        promotion=st.tuples(
            st.sampled_from([None, "percent", "amount", "free_shipping"]),
            st.sampled_from(["platform", "seller"]),
            st.integers(1, 100),
            st.integers(1, 3_000),
        ),
    )
    def open_marketplace(
        self,
        commission: int,
        fees: tuple[int, int],
        discounts: tuple[int, int],
        fee_payer: str,
        shipping: tuple[int, int | None, bool] = (0, None, False),
        tax: tuple[int, int, bool] = (0, 0, False),
        promotion: tuple[str | None, str, int, int] = (None, "platform", 1, 1),
    ) -> None:
        self.c: Container = built(make_settings(Path(tempfile.mkdtemp())))
        c = self.c
        self.tenant = c.identity.register_tenant(
            ctx(),
            name="M",
            currency="USD",
            commission_bps=commission,
            escrow_hold_days=0,
            product_moderation="auto",
        ).id
        c.identity.set_dispute_policy(ctx(), self.tenant, self.tenant, fee_payer)
        self.fee_payer = fee_payer
        self.seller_fees = 0  # what lost disputes' fees the sellers bore
        # The first seller charges for shipping (free from a threshold, maybe), the second has
        # no rates; the tenant may take commission on shipping.
        self.ship_price, self.free_over, self.on_shipping = shipping
        c.identity.set_commission_on_shipping(ctx(), self.tenant, self.tenant, self.on_shipping)
        # Tax: a rate for the country, another for the first product's category; prices with
        # or without it. The reference taxes each line itself, half to even.
        country_bps, category_bps, self.tax_included = tax
        c.identity.set_tax(
            ctx(),
            self.tenant,
            self.tenant,
            TaxTable.parse(
                self.tax_included,
                [
                    {"country": "DE", "rate_bps": country_bps, "name": "VAT"},
                    {"country": "DE", "category": "c", "rate_bps": category_bps, "name": "VAT c"},
                ],
            ),
        )
        self.tax_rates = [(category_bps, "VAT c"), (country_bps, "VAT")]  # by product
        self.commission = commission
        self.products: list[UUID] = []
        self.sellers: list[UUID] = []
        for i in range(2):
            seller = c.sellers.register_seller(
                ctx(), tenant_id=self.tenant, user_id=uuid4(), display_name=f"S{i}", country="DE"
            ).id
            c.sellers.approve(ctx(), seller, self.tenant)
            self.sellers.append(seller)
            listed, _ = c.catalog.list_product(
                ctx(),
                seller_id=seller,
                within=self.tenant,
                sku=f"P{i}",
                title="P",
                description="",
                category="cd"[i],
                price=Money(1_000 + 333 * i, "USD"),
                attributes={},
            )
            c.catalog.set_stock(ctx(), listed.id, seller, "main", 1_000)
            self.products.append(listed.id)
        self.rate = c.sellers.add_shipping_rate(
            ctx(),
            self.sellers[0],
            name="Standard",
            countries=["DE"],
            price=Money(self.ship_price, "USD"),
            free_over=None if self.free_over is None else Money(self.free_over, "USD"),
            min_days=1,
            max_days=3,
        ).id
        # An automatic promotion on the first seller's lines (and its shipping), funded by it
        # or by the platform: the reference discounts each checkout itself.
        self.promotion = promotion
        kind, funded_by, percent, amount = promotion
        if kind is not None:
            c.promotions.create(
                ctx(),
                self.tenant,
                self.tenant,
                acting_seller=None,
                created_by=uuid4(),
                terms={
                    "kind": kind,
                    "funded_by": funded_by,
                    "seller_id": self.sellers[0],
                    "percent": percent if kind == "percent" else None,
                    "amount": Money(amount, "USD") if kind == "amount" else None,
                },
            )
        # The reference (tests/unit/money_reference.py): each seller order as the model priced
        # it and what went back of it; each order's seller orders; each dispute's shares.
        self.ref: dict[UUID, SellerOrderRef] = {}
        self.orders: dict[UUID, list[UUID]] = {}
        self.dispute_shares: dict[str, dict[UUID, int]] = {}
        self.pending: dict[UUID, tuple[str, int]] = {}  # order -> (intent, total)
        # Kept in the order things happened: ids are random, so sorting them would let a
        # replayed example draw different orders and Hypothesis could not shrink it.
        self.paid: dict[UUID, None] = {}
        self.events: list[tuple[str, str, int, bool]] = []  # sent (event id, intent, amount, ok)
        self.cancelled_unpaid: dict[UUID, tuple[str, int]] = {}  # order -> (intent, total)
        self.paid_in = self.refunded = self.paid_out = self.disputed_out = 0
        # Disputes: id -> (intent, amount, opened, closed); sent dispute events, to repeat.
        self.disputes: dict[str, tuple[str, int, bool, bool]] = {}
        self.dispute_events: list[tuple[str, dict[str, object]]] = []
        self.intents: dict[UUID, str] = {}  # paid order -> its payment intent
        # Per paid intent, what was charged and what its disputes claim together so far.
        self.charged: dict[str, int] = {}
        self.claimed: dict[str, int] = {}
        # Plans: (id, fee, discount); the model's clock, moved on by the rules; per seller the
        # stretches on a plan that ended (fee, start, end) and the one under way (fee, start).
        self.plans = [
            (
                c.sellers.define_plan(
                    ctx(),
                    self.tenant,
                    name=f"plan {n}",
                    monthly_fee=Money(fee, "USD"),
                    product_limit=None,
                    commission_discount_bps=discount,
                ).id,
                fee,
                discount,
            )
            for n, (fee, discount) in enumerate(zip(fees, discounts, strict=True))
        ]
        self.now = datetime(2026, 1, 30, 12, tzinfo=UTC)
        self.on_plan: dict[UUID, tuple[int, int, datetime]] = {}  # seller -> (plan, fee, start)
        self.stretches: list[tuple[int, datetime, datetime]] = []
        # An order of both sellers, paid, one part of it delivered (and released), to begin
        # with: the rules that need one (refunds, returns, disputes) can run from the first step.
        self.checkout([(0, 1), (1, 2)])
        (order_id, (intent, total)), *_ = self.pending.items()
        assert self.send(f"evt_{uuid4().hex}", intent, total, True) == "paid"
        del self.pending[order_id]
        self.paid_now(order_id, intent, total)
        # The second seller's part is delivered and released; the first's (which promotions
        # discount) stays in escrow, for refunds and disputes of it from the first step.
        first = next(so for so in self.seller_orders("paid") if so.seller_id == self.sellers[1])
        self.ship_and_deliver_now(first)

    def seller_orders(self, *statuses: str) -> list[SellerOrder]:
        found = []
        for order_id in self.paid:
            order = self.c.checkout.repository.get(order_id)
            for so_id in order.seller_order_ids:
                so = self.c.checkout.repository.get(so_id)
                if so.status in statuses:
                    found.append(so)
        return found

    def money_of(self, so_id: UUID) -> Any:
        """The seller order's settlement (None if it was never paid)."""
        return self.c.checkout.get_or_none(settlement_id(so_id))

    def given(self, ref: SellerOrderRef) -> Given:
        """What went back of a seller order since the reference last took note, as its
        settlement says: to the buyer, of its tax, to the platform, of commission."""
        m = self.money_of(ref.id)
        return Given(
            m.refunded_minor - ref.paid_back,
            minus(dict(m.tax_returned or {}), ref.tax_back),
            m.platform_returned_minor - ref.funded_back,
            ref.commission_left - m.escrow_commission_minor,
        )

    @rule(
        lines=st.lists(
            st.tuples(st.integers(0, 1), st.integers(1, 3)),
            min_size=1,
            max_size=2,
            unique_by=lambda t: t[0],
        )
    )
    def checkout(self, lines: list[tuple[int, int]]) -> None:
        buyer = uuid4()
        cart = self.c.checkout.open_cart(ctx(), self.tenant, buyer).id
        for index, quantity in lines:
            self.c.checkout.set_quantity(ctx(), cart, buyer, self.products[index], quantity)
        shipped = self.sellers[0] if any(index == 0 for index, _ in lines) else None
        done = self.c.checkout.checkout(
            ctx(),
            tenant_id=self.tenant,
            buyer_id=buyer,
            cart_id=cart,
            shipping_address=ADDRESS,
            idempotency_key=str(uuid4()),
            shipping={shipped: self.rate} if shipped else None,
        )
        self.orders[done.order.id] = list(done.order.seller_order_ids)
        for so_id in done.order.seller_order_ids:
            self.ref[so_id] = self.priced(self.c.checkout.repository.get(so_id), shipped)
        assert done.order.total_minor == sum(self.ref[s].gross for s in self.orders[done.order.id])
        if done.order.payment is None:
            # Promotions made it free: paid at once, with nothing to charge, and so nothing
            # the buyer could be refunded or dispute.
            assert done.order.total_minor == 0 and done.order.status == "paid"
            for so_id in done.order.seller_order_ids:
                self.ref[so_id].paid = True
            return
        self.pending[done.order.id] = (done.order.payment["intent_id"], done.order.total_minor)

    def priced(self, so: SellerOrder, shipped: UUID | None) -> SellerOrderRef:
        """The reference's price of a seller order, held against the one checkout placed: each
        line at its listed price less its part of the promotion, taxed at its own rate half to
        even; its shipping, free from the threshold or by the promotion; who funds what."""
        kind, funded_by, percent, amount = self.promotion
        on = self.on_plan.get(so.seller_id)
        rate = max(0, self.commission - (self.plans[on[0]][2] if on else 0))
        index = self.sellers.index(so.seller_id)  # each seller sells one product
        listed = sum(line.line_total_minor for line in so.order_lines)
        bps, name = self.tax_rates[index]
        over = 10_000 + bps if self.tax_included else 10_000

        def taxed(value: int) -> int:
            return round(Fraction(value * bps, over))  # half to even, as Python rounds

        def goods_of(value: int) -> int:
            return value - taxed(value) if self.tax_included else value

        free = self.free_over is not None and listed >= self.free_over
        quoted = 0 if so.seller_id != shipped or free else self.ship_price
        off = ship_off = 0
        if index == 0 and kind == "percent":
            off = round(Fraction(listed * percent, 100))
        elif index == 0 and kind == "amount":
            off = min(amount, listed)
        elif index == 0 and kind == "free_shipping":
            ship_off = quoted
        by_seller = funded_by == "seller"
        tax = taxed(listed - off)
        goods = goods_of(listed - off) if by_seller else goods_of(listed)
        shipping = quoted - ship_off if by_seller else quoted
        line_funded = 0 if by_seller else goods_of(listed) - goods_of(listed - off)
        shipping_funded = 0 if by_seller else ship_off
        funding = line_funded + shipping_funded
        taken = commission_of(shipping, rate) if self.on_shipping else 0
        assert (so.subtotal_minor, so.tax_minor, so.shipping_minor) == (goods, tax, shipping)
        assert (so.discount_minor, so.platform_funding_minor) == (off + ship_off, funding)
        assert so.commission_minor == commission_of(goods, rate) + taken
        assert so.seller_net_minor == goods + shipping - so.commission_minor
        (line,) = so.order_lines
        paid = listed - off + (0 if self.tax_included else tax)
        ref = SellerOrderRef(
            so.id,
            so.seller_id,
            [Line(line.variant_id, line.quantity, f"{bps}:{name}", paid, tax, line_funded)],
            shipping - shipping_funded,
            shipping_funded,
            so.commission_minor,
        )
        assert so.gross_minor == ref.gross and so.tax_parts == ref.tax
        return ref

    def paid_now(self, order_id: UUID, intent: str, total: int) -> None:
        assert order_id not in self.paid, "an order was paid twice"
        self.paid[order_id] = None
        self.intents[order_id] = intent
        self.charged[intent], self.claimed[intent] = total, 0
        self.paid_in += total
        for so_id in self.orders[order_id]:
            self.ref[so_id].paid = True

    def send(self, event_id: str, intent: str, amount: int, ok: bool) -> str:
        kind = "payment_intent.succeeded" if ok else "payment_intent.payment_failed"
        return self.c.checkout.apply_payment_event(
            ctx(),
            provider="local",
            event_id=event_id,
            event_type=kind,
            intent_id=intent,
            amount_minor=amount,
            currency="usd",
            succeeded=ok,
        )

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), ok=st.booleans())
    def webhook(self, data: st.DataObject, ok: bool) -> None:
        order_id = data.draw(st.sampled_from(list(self.pending)))
        intent, total = self.pending[order_id]
        event_id = f"evt_{uuid4().hex}"
        outcome = self.send(event_id, intent, total, ok)
        self.events.append((event_id, intent, total, ok))
        if outcome == "paid":
            assert ok
            self.paid_now(order_id, intent, total)
            del self.pending[order_id]
        elif outcome == "cancelled":
            assert not ok
            del self.pending[order_id]

    @precondition(lambda self: self.cancelled_unpaid)
    @rule(data=st.data())
    def a_payment_arrives_after_cancellation(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(list(self.cancelled_unpaid)))
        intent, total = self.cancelled_unpaid.pop(order_id)
        event_id = f"evt_{uuid4().hex}"
        assert self.send(event_id, intent, total, True) == "refunded"
        self.events.append((event_id, intent, total, True))
        self.paid_in += total  # it came in, and went straight back out
        self.refunded += total

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def a_provider_event_arrives_again(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.events))
        assert self.send(*event) == "duplicate"

    @precondition(lambda self: self.paid)
    @rule(data=st.data())
    def ship_and_deliver(self, data: st.DataObject) -> None:
        ready = self.seller_orders("paid")
        if not ready:
            return
        so = {s.id: s for s in ready}[data.draw(st.sampled_from([s.id for s in ready]))]
        self.ship_and_deliver_now(so)

    def ship_and_deliver_now(self, so: SellerOrder) -> None:
        """Shipped and delivered: released at once (no release delay) unless a dispute holds
        it."""
        self.c.fulfilment.ship(
            ctx(), so.id, seller_id=so.seller_id, carrier="X", tracking_number="1"
        )
        self.c.fulfilment.deliver(ctx(), so.id, within=self.tenant, seller_id=so.seller_id)
        if not self.ref[so.id].under_dispute:
            self.ref[so.id].release()

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), share=st.integers(1, 100))
    def refund(self, data: st.DataObject, share: int) -> None:
        open_ = [
            ref.id
            for ref in self.ref.values()
            if ref.paid and ref.paid_left > 0 and not ref.under_dispute
        ]
        if not open_:
            return
        ref = self.ref[data.draw(st.sampled_from(open_))]
        amount = max(1, ref.paid_left * share // 100)
        result, granted = self.c.refunds.request(
            ctx(),
            seller_order_id=ref.id,
            within=self.tenant,
            buyer_id=None,
            amount=Money(amount, "USD"),
            reason="model",
        )
        self.c.refunds.approve(ctx(), result.id, within=self.tenant, seller_id=None)
        given = self.given(ref)
        assert given.amount == granted.amount_minor == amount
        ref.refunded_in_proportion(given)
        self.refunded += amount

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), rejected=st.booleans(), shipped=st.booleans(), restock=st.booleans())
    def a_buyer_returns_delivered_lines(
        self, data: st.DataObject, rejected: bool, shipped: bool, restock: bool
    ) -> None:
        """A return of some delivered units: rejected, or authorized, perhaps shipped, and
        received in part or whole, what arrived refunded at its price (up to what is still
        refundable), out of escrow or charged back."""
        parts = {
            so.id: so
            for so in self.seller_orders("delivered", "completed")
            if not self.ref[so.id].under_dispute
        }
        ready = [
            (so.id, line.product_id)
            for so in parts.values()
            for line in so.order_lines
            if so.returnable(line.product_id) > 0
        ]
        if not ready:
            return
        so_id, product = data.draw(st.sampled_from(ready))
        so = parts[so_id]
        quantity = data.draw(st.integers(1, so.returnable(product)))
        returns = self.c.returns
        made = returns.request(
            ctx(),
            seller_order_id=so.id,
            within=self.tenant,
            buyer_id=so.buyer_id,
            lines=[AskedLine(product, quantity)],
            reason="model",
        )
        if rejected:
            returns.reject(ctx(), made.id, within=self.tenant, seller_id=None, reason="model")
            return
        returns.authorize(ctx(), made.id, within=self.tenant, seller_id=None, instructions="m")
        if shipped:
            returns.ship(
                ctx(),
                made.id,
                within=self.tenant,
                buyer_id=so.buyer_id,
                carrier="X",
                tracking_number="1",
            )
        arrived = data.draw(st.integers(0, quantity))
        returns.receive(
            ctx(),
            made.id,
            within=self.tenant,
            seller_id=so.seller_id,
            lines=[ReceivedLine(product, arrived, "main" if restock else None)],
        )
        # Its units' share of what their line paid, tax included, up to what is still
        # refundable; their tax and the platform's funding of them with it.
        ref = self.ref[so.id]
        given = self.given(ref)
        ref.returned(next(line for line in ref.lines if line.variant == product), arrived, given)
        self.refunded += given.amount
        after = self.c.checkout.repository.get(so.id)
        assert after.returnable(product) == so.returnable(product) - arrived  # so: before asking

    @precondition(lambda self: self.paid or self.pending)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from([*self.paid, *self.pending]))
        try:
            self.c.checkout.cancel(ctx(), order_id, self.tenant, None)
        except DomainError:
            return  # something shipped, or already cancelled: refused, nothing moved
        for so_id in self.orders[order_id]:
            if self.ref[so_id].paid:
                self.refunded += self.ref[so_id].cancel()  # all that is left of it
        if order_id in self.pending:
            self.cancelled_unpaid[order_id] = self.pending.pop(order_id)

    @precondition(lambda self: self.paid)
    @rule(data=st.data())
    def release_due_escrow(self, data: st.DataObject) -> None:
        """The scheduler's release of a delivered seller order no dispute holds."""
        due = [so.id for so in self.seller_orders("delivered") if not self.ref[so.id].under_dispute]
        if due:
            so_id = data.draw(st.sampled_from(due))
            self.c.fulfilment.release_escrow(ctx(), so_id, datetime.now(UTC))
            self.ref[so_id].release()

    def dispute(self, kind: str, dispute_id: str, **more: object) -> str:
        intent, amount, _, _ = self.disputes[dispute_id]
        about = {"dispute_id": dispute_id, "amount_minor": amount, "currency": "usd"}
        event = {"event_id": f"evt_{uuid4().hex}", "intent_id": intent, **about, **more}
        self.dispute_events.append((kind, event))
        return self.send_dispute(kind, event)

    def send_dispute(self, kind: str, event: dict[str, object]) -> str:
        command = self.c.disputes.open_dispute if kind == "open" else self.c.disputes.close_dispute
        return str(
            command(
                ctx(),
                provider="local",
                event_type=f"charge.dispute.{'created' if kind == 'open' else 'closed'}",
                reason="fraudulent",
                **event,  # type: ignore[arg-type]
            )
        )

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), share=st.integers(1, 100), closed_first=st.booleans())
    def a_buyer_disputes_the_charge(
        self, data: st.DataObject, share: int, closed_first: bool
    ) -> None:
        """A dispute of part of a paid order opens (or, its events crossing, is first heard of
        as closed: then its opening comes later and changes nothing)."""
        order_id = data.draw(st.sampled_from(list(self.paid)))
        if any(self.ref[so_id].under_dispute for so_id in self.orders[order_id]):
            return  # one dispute of a charge at a time
        intent = self.intents[order_id]
        left = self.charged[intent] - self.claimed[intent]
        if not left:
            return  # the charge was disputed in full: see a_dispute_beyond_the_charge
        dispute_id = f"dp_{uuid4().hex[:10]}"
        self.disputes[dispute_id] = (intent, max(1, left * share // 100), False, False)
        closed = closed_first and self.close_dispute_now(
            dispute_id, data.draw(st.booleans()), data.draw(st.integers(0, 3_000))
        )
        assert self.dispute("open", dispute_id) == ("known" if closed else "disputed")
        if not closed:
            self.dispute_opened(dispute_id)
        intent, amount, _, closed = self.disputes[dispute_id]
        if not closed:
            self.claimed[intent] += amount
        self.disputes[dispute_id] = (intent, amount, True, closed)

    def close_dispute_now(self, dispute_id: str, won: bool, fee: int) -> bool:
        """Whether it closed: a fee larger than the charge is flagged and leaves it as it was."""
        intent, amount, opened, _ = self.disputes[dispute_id]
        outcome = self.dispute("close", dispute_id, won=won, fee_minor=fee)
        if fee > self.charged[intent]:
            assert outcome == "flagged"
            return False
        assert outcome == ("won" if won else "lost")
        if not opened:
            self.claimed[intent] += amount  # opened and closed in one step
            self.dispute_opened(dispute_id)
        shares = self.dispute_shares.pop(dispute_id)
        for so_id in shares:
            self.ref[so_id].dispute = 0
        if not won:
            self.disputed_out += amount + fee
            if shares and self.fee_payer == "seller":
                self.seller_fees += fee
            for so_id, share in shares.items():
                # Its share leaves as a refund of that amount would.
                given = self.given(self.ref[so_id])
                assert given.amount == share, (given, share)
                self.ref[so_id].refunded_in_proportion(given)
        self.disputes[dispute_id] = (intent, amount, opened, True)
        return True

    def dispute_opened(self, dispute_id: str) -> None:
        """The reference's check of how a dispute split over the order's seller orders (in
        proportion to what each has left), and what it now reserves of each."""
        intent, amount, _, _ = self.disputes[dispute_id]
        (order_id,) = [o for o, i in self.intents.items() if i == intent]
        refs = [self.ref[so_id] for so_id in self.orders[order_id]]
        key = Dispute.create_id("local", dispute_id)
        shares = []
        for ref in refs:
            share = self.money_of(ref.id).dispute
            shares.append(share.amount_minor if share and share.dispute_id == key else 0)
        check_split(amount, [ref.paid_left for ref in refs], shares)
        self.dispute_shares[dispute_id] = {
            ref.id: share for ref, share in zip(refs, shares, strict=True) if share
        }
        for ref, share in zip(refs, shares, strict=True):
            ref.dispute = share

    @rule(fee_payer=st.sampled_from(["seller", "platform"]))
    def the_tenant_changes_who_bears_dispute_fees(self, fee_payer: str) -> None:
        self.c.identity.set_dispute_policy(ctx(), self.tenant, self.tenant, fee_payer)
        self.fee_payer = fee_payer

    @precondition(lambda self: any(not d[3] for d in self.disputes.values()))
    @rule(data=st.data(), won=st.booleans(), fee=st.integers(0, 3_000))
    def a_dispute_closes(self, data: st.DataObject, won: bool, fee: int) -> None:
        open_ = [d for d, (_, _, _, closed) in self.disputes.items() if not closed]
        self.close_dispute_now(data.draw(st.sampled_from(open_)), won, fee)

    def hostile_dispute(self, kind: str, intent: str, amount: int, fee: int = 0) -> str:
        """A dispute event the charge cannot explain: flagged, and (the invariants check) not
        a cent booked."""
        event: dict[str, object] = {
            "event_id": f"evt_{uuid4().hex}",
            "intent_id": intent,
            "dispute_id": f"dp_{uuid4().hex[:10]}",
            "amount_minor": amount,
            "currency": "usd",
        }
        if kind == "close":
            event.update(won=False, fee_minor=fee)
        self.dispute_events.append((kind, event))
        return self.send_dispute(kind, event)

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), beyond=st.integers(1, 10**12), kind=st.sampled_from(["open", "close"]))
    def a_dispute_beyond_the_charge(self, data: st.DataObject, beyond: int, kind: str) -> None:
        """A dispute of more than the charge has left to dispute (10^12 on a 1,000 charge)."""
        intent = self.intents[data.draw(st.sampled_from(list(self.paid)))]
        amount = self.charged[intent] - self.claimed[intent] + beyond
        assert self.hostile_dispute(kind, intent, amount) == "flagged"

    @precondition(lambda self: self.pending or self.cancelled_unpaid)
    @rule(
        data=st.data(),
        amount=st.integers(1, 10**12),
        fee=st.integers(0, 3_000),
        kind=st.sampled_from(["open", "close"]),
    )
    def a_dispute_of_an_order_never_paid(
        self, data: st.DataObject, amount: int, fee: int, kind: str
    ) -> None:
        """A dispute (lost, when closed) of an order awaiting payment or cancelled unpaid."""
        unpaid = {**self.pending, **self.cancelled_unpaid}
        intent, _ = unpaid[data.draw(st.sampled_from(list(unpaid)))]
        assert self.hostile_dispute(kind, intent, amount, fee) == "flagged"

    @precondition(lambda self: any(d[2] and not d[3] for d in self.disputes.values()))
    @rule(data=st.data(), beyond=st.one_of(st.integers(1, 10**12), st.just(2**63)))
    def a_dispute_closes_with_a_fee_larger_than_the_charge(
        self, data: st.DataObject, beyond: int
    ) -> None:
        """Flagged, and the dispute stays open for a person (or a later event) to close."""
        open_ = [d for d, (_, _, opened, closed) in self.disputes.items() if opened and not closed]
        dispute_id = data.draw(st.sampled_from(open_))
        fee = beyond if beyond == 2**63 else self.charged[self.disputes[dispute_id][0]] + beyond
        assert not self.close_dispute_now(dispute_id, data.draw(st.booleans()), fee)

    @precondition(lambda self: self.cancelled_unpaid)
    @rule(data=st.data(), off=st.integers(-999, 10**12).filter(bool))
    def a_late_payment_of_another_amount(self, data: st.DataObject, off: int) -> None:
        """A payment for a cancelled order that is not its intent's amount is not returned
        (nor booked): flagged. The right one may still come."""
        intent, total = self.cancelled_unpaid[
            data.draw(st.sampled_from(list(self.cancelled_unpaid)))
        ]
        assert self.send(f"evt_{uuid4().hex}", intent, total + off, True) == "flagged"

    @precondition(lambda self: self.dispute_events)
    @rule(data=st.data())
    def a_dispute_event_arrives_again(self, data: st.DataObject) -> None:
        kind, event = data.draw(st.sampled_from(self.dispute_events))
        assert self.send_dispute(kind, event) == "duplicate"

    def roll(self, seller: UUID) -> None:
        """The reference's renewal: a stretch that reached its month's end ends there, and the
        next month's begins."""
        while seller in self.on_plan and month_end(self.on_plan[seller][2]) <= self.now:
            index, fee, start = self.on_plan[seller]
            self.stretches.append((fee, start, month_end(start)))
            self.on_plan[seller] = (index, fee, month_end(start))

    @rule(
        seller=st.integers(0, 1),
        plan=st.integers(0, 1),
        after=st.integers(0, 20 * 86_400),
    )
    def choose_plan(self, seller: int, plan: int, after: int) -> None:
        self.now += timedelta(seconds=after)
        seller_id = self.sellers[seller]
        self.c.sellers.subscribe(ctx(), seller_id, self.plans[plan][0], self.now)
        self.roll(seller_id)
        on = self.on_plan.get(seller_id)
        if on is not None and on[0] == plan:
            return  # the plan it is on: nothing changes
        if on is not None:
            self.stretches.append((on[1], on[2], self.now))
        self.on_plan[seller_id] = (plan, self.plans[plan][1], self.now)

    @rule(seller=st.integers(0, 1), after=st.integers(0, 20 * 86_400))
    def leave_plan(self, seller: int, after: int) -> None:
        self.now += timedelta(seconds=after)
        seller_id = self.sellers[seller]
        try:
            self.c.sellers.cancel_plan(ctx(), seller_id, self.now)
        except DomainError:
            assert seller_id not in self.on_plan
            return
        self.roll(seller_id)
        _, fee, start = self.on_plan.pop(seller_id)
        self.stretches.append((fee, start, self.now))

    @rule(days=st.integers(1, 70), again=st.booleans())
    def months_pass(self, days: int, again: bool) -> None:
        """The scheduler renews every plan (and, again, renews nothing twice)."""
        self.now += timedelta(days=days)
        for seller_id in self.sellers:
            for _ in range(2 if again else 1):
                self.c.sellers.renew_plan(ctx(), seller_id, self.now)
            self.roll(seller_id)

    @rule()
    def payouts(self) -> None:
        self.c.catch_up()
        run = self.c.payout_runs.run(ctx(), TenantScope.only(self.tenant), run_key=str(uuid4()))
        self.paid_out += sum(p.amount.amount_minor for p in run.made if p.status == "paid")

    @invariant()
    def the_books_hold(self) -> None:
        if not hasattr(self, "c"):
            return
        self.c.catch_up()
        scope = TenantScope.only(self.tenant)
        assert self.c.ledger_queries.trial_balance(scope)["balanced"]
        accounts = {a["code"]: a for a in self.c.ledger_queries.accounts(scope, currency="USD")}
        balances = {code: a["balance"]["amount"] for code, a in accounts.items()}
        for code, balance in balances.items():
            if code.startswith(
                ("escrow:", "seller:payable:", "seller:receivable:", "seller:dispute_reserve:")
            ):
                assert balance >= 0, (code, balance)
        settled = {ref.id: self.money_of(ref.id) for ref in self.ref.values() if ref.paid}
        self.the_reference_holds(settled, accounts)
        reserved: dict[str, int] = {}
        for m in settled.values():
            share = m.dispute
            if m.under_dispute and share is not None and not share.in_escrow:
                code = Chart.seller_dispute_reserve(m.seller_id)
                reserved[code] = reserved.get(code, 0) + share.net_minor
        assert {
            code: balance
            for code, balance in balances.items()
            if code.startswith("seller:dispute_reserve:") and balance
        } == {code: amount for code, amount in reserved.items() if amount}
        expected_fees = sum(fee_for(fee, start, end) for fee, start, end in self.stretches) + sum(
            fee_for(fee, start, month_end(start)) for _, fee, start in self.on_plan.values()
        )
        assert balances.get(Chart.PLAN_FEES, 0) == expected_fees
        for seller_id in self.sellers:
            payable = (
                self.c.checkout.repository.get(
                    account_id(self.tenant, "USD", Chart.seller_payable(seller_id))
                )
                if balances.get(Chart.seller_payable(seller_id)) is not None
                else None
            )
            owed = (
                0
                if payable is None
                else payable.credits_posted - payable.debits_posted - payable.debits_pending
            )
            left = sum(
                m.payout_remaining_minor for m in settled.values() if m.seller_id == seller_id
            )
            assert owed <= left, (owed, left)
        assert balances.get(Chart.UNAPPLIED_PAYMENTS, 0) == 0  # late payments all went back
        assert sum(sum(m.payouts.values()) for m in settled.values()) == self.paid_out
        clearing = balances.get(Chart.PROCESSOR_CLEARING, 0)
        assert clearing == (
            self.paid_in - self.refunded - self.paid_out - self.disputed_out - self.fees_booked
        ), (
            clearing,
            self.paid_in,
            self.refunded,
            self.paid_out,
            self.disputed_out,
            self.fees_booked,
        )

    def the_reference_holds(self, settled: dict[UUID, Any], accounts: dict[str, Any]) -> None:
        """Each paid seller order's settlement is what the reference kept of it, and the ledger
        holds what the reference says is left: the marketplace owes the tax not given back
        (never a seller), the platform pays what it funded less what came back, escrow holds the
        goods and shipping left with the platform's part and keeps aside the seller's net and
        the commission in pending transfers, the platform earned the commission left of what
        escrow released, and the sellers have what was released to them less what went back,
        plan fees, their dispute fees and payouts."""

        def balance(code: str, side: str = "balance") -> int:
            return int(accounts[code][side]["amount"]) if code in accounts else 0

        paid = [ref for ref in self.ref.values() if ref.paid]
        for ref in paid:
            m = settled[ref.id]
            assert (m.gross_minor, m.tax_parts, m.platform_funding_minor) == (
                ref.gross,
                ref.tax,
                ref.funded,
            )
            assert (m.refunded_minor, m.tax_returned, m.platform_returned_minor) == (
                ref.paid_back,
                ref.tax_back,
                ref.funded_back,
            ), ref
            assert (m.cancelled, m.escrow_is_held, m.under_dispute) == (
                ref.cancelled,
                ref.in_escrow,
                ref.under_dispute,
            )
            if not ref.cancelled:
                assert (m.escrow_commission_minor, m.escrow_net_minor) == (
                    ref.commission_left,
                    ref.net_left,
                )
            assert m.released_net_minor == ref.released_net
            ref.check_returned()
        assert balance(Chart.TAX_PAYABLE) == sum(sum(r.tax_left.values()) for r in paid)
        assert balance(Chart.PROMOTIONS) == sum(ref.funded_left for ref in paid)
        commission = Chart.PLATFORM_COMMISSION
        assert balance(commission) == sum(r.commission_left for r in paid if r.released)
        assert balance(commission, "credits_pending") == sum(
            ref.commission_left for ref in paid if ref.in_escrow
        )
        position = 0
        for seller_id in self.sellers:
            mine = [ref for ref in paid if ref.seller == seller_id]
            assert balance(Chart.escrow(seller_id)) == sum(
                ref.goods_left + ref.funded_left for ref in mine if ref.in_escrow
            )
            payable = Chart.seller_payable(seller_id)
            assert balance(payable, "credits_pending") == sum(
                ref.net_left for ref in mine if ref.in_escrow
            )
            position += (
                balance(payable)
                - balance(Chart.seller_receivable(seller_id))
                + balance(Chart.seller_dispute_reserve(seller_id))
            )
        assert position == (
            sum(ref.net_left for ref in paid if ref.released)
            - balance(Chart.PLAN_FEES)
            - self.seller_fees
            - self.paid_out
        )

    def teardown(self) -> None:
        if hasattr(self, "c"):
            self.c.close()


# -- Reconciliation (issue 30): the provider's record, its fees, and the day's match ------------


class ReconciledMoneyFlow(MoneyFlow):
    """The money flow with the provider's side: what the local provider records as the buyer
    pays (a charge with its fee), refunds and pays out, and a lost dispute's withdrawal; a rule
    books the processor fees of what the provider recorded so far; and after every step the
    provider's record of the day matches the ledger to the minor unit, but for the fees not
    booked yet, which are exactly the fees of the charges since the last booking."""

    def __init__(self) -> None:
        super().__init__()
        self.took: dict[str, int] = {}  # intent -> what the provider charged for it
        self.fees_kept = 0  # what the provider kept of those charges

    @property
    def provider(self) -> LocalPaymentProvider:
        payments = self.c.checkout.payments
        assert isinstance(payments, LocalPaymentProvider)
        return payments

    def send(self, event_id: str, intent: str, amount: int, ok: bool) -> str:
        outcome = super().send(event_id, intent, amount, ok)
        if outcome in ("paid", "refunded") and intent not in self.took:
            # The buyer paid at the provider: it recorded the charge Velora just booked (or,
            # for a cancelled order, booked and gave back).
            self.took[intent] = amount
            self.provider.charge(intent, Money(amount, "USD"))
            self.fees_kept += card_fee(amount)
        return outcome

    def close_dispute_now(self, dispute_id: str, won: bool, fee: int) -> bool:
        closed = super().close_dispute_now(dispute_id, won, fee)
        if closed and not won:
            intent, amount, _, _ = self.disputes[dispute_id]
            self.provider.withdraw_for_dispute(dispute_id, intent, Money(amount, "USD"), fee)
        return closed

    def statement(self) -> list[Any]:
        day = datetime.now(UTC).date()
        return self.c.reconciliation.statement(day).get(str(self.tenant), [])

    @rule()
    def processor_fees_are_booked(self) -> None:
        self.c.catch_up()
        booked = self.c.reconciliation.book_fees(ctx(), self.tenant, "USD", self.statement())
        self.fees_booked += sum(t.fee_minor for t in booked)
        self.c.catch_up()
        again = self.c.reconciliation.book_fees(ctx(), self.tenant, "USD", self.statement())
        assert again == []  # each fee once

    @invariant()
    def the_provider_and_the_ledger_agree(self) -> None:
        if not hasattr(self, "c"):
            return
        self.c.catch_up()
        day = datetime.now(UTC).date()
        outcome = self.c.reconciliation.examine(self.tenant, "USD", day, self.statement())
        assert outcome.unmatched_ledger == [], outcome.unmatched_ledger
        unbooked = [i for i in outcome.unmatched_provider if i["type"] == "fee"]
        assert [i for i in outcome.unmatched_provider if i not in unbooked] == []
        assert -sum(i["amount"]["amount"] for i in unbooked) == self.fees_kept - self.fees_booked
        balances = {
            a["code"]: a["balance"]["amount"]
            for a in self.c.ledger_queries.accounts(TenantScope.only(self.tenant), currency="USD")
        }
        assert balances.get(Chart.PROCESSOR_FEES, 0) == self.fees_booked


ReconciledMoneyFlow.TestCase.settings = settings(
    max_examples=int(os.environ.get("VELORA_MODEL_EXAMPLES", "20")),
    stateful_step_count=20,
    deadline=None,
)
TestMoneyFlow = ReconciledMoneyFlow.TestCase
