"""Model-based test of the whole money flow, through the real applications and projections on
the embedded store: checkout, payment webhooks (duplicated and out of order), shipping,
delivery and escrow release, partial refunds, cancellation and payouts in random interleavings.
After every step the books must balance, escrow and payables must not be negative, processor
clearing must equal what buyers paid less refunds and payouts, and no order is paid twice."""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from api.bootstrap import Container
from domain.errors import DomainError
from domain.ledger import Chart
from domain.money import Money
from domain.orders import SellerOrder
from eventstore.context import CommandContext
from projections.scope import TenantScope
from tests.conftest import built, make_settings

ADDRESS = {"name": "M", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}


def ctx() -> CommandContext:
    return CommandContext.system("model")


class MoneyFlow(RuleBasedStateMachine):
    @initialize(commission=st.integers(0, 3000))
    def open_marketplace(self, commission: int) -> None:
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
        self.products: list[UUID] = []
        for i in range(2):
            seller = c.sellers.register_seller(
                ctx(), tenant_id=self.tenant, user_id=uuid4(), display_name=f"S{i}", country="DE"
            ).id
            c.sellers.approve(ctx(), seller, self.tenant)
            listed, _ = c.catalog.list_product(
                ctx(),
                seller_id=seller,
                within=self.tenant,
                sku=f"P{i}",
                title="P",
                description="",
                category="c",
                price=Money(1_000 + 333 * i, "USD"),
                attributes={},
            )
            c.catalog.set_stock(ctx(), listed.id, seller, "main", 1_000)
            self.products.append(listed.id)
        self.pending: dict[UUID, tuple[str, int]] = {}  # order -> (intent, total)
        # Kept in the order things happened: ids are random, so sorting them would let a
        # replayed example draw different orders and Hypothesis could not shrink it.
        self.paid: dict[UUID, None] = {}
        self.events: list[tuple[str, str, int, bool]] = []  # sent (event id, intent, amount, ok)
        self.cancelled_unpaid: dict[UUID, tuple[str, int]] = {}  # order -> (intent, total)
        self.paid_in = self.refunded = self.paid_out = 0

    def seller_orders(self, *statuses: str) -> list[SellerOrder]:
        found = []
        for order_id in self.paid:
            order = self.c.checkout.repository.get(order_id)
            for so_id in order.seller_order_ids:
                so = self.c.checkout.repository.get(so_id)
                if so.status in statuses:
                    found.append(so)
        return found

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
        done = self.c.checkout.checkout(
            ctx(),
            tenant_id=self.tenant,
            buyer_id=buyer,
            cart_id=cart,
            shipping_address=ADDRESS,
            idempotency_key=str(uuid4()),
        )
        assert done.order.payment is not None
        self.pending[done.order.id] = (done.order.payment["intent_id"], done.order.total_minor)

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
            assert ok and order_id not in self.paid, "an order was paid twice"
            self.paid[order_id] = None
            self.paid_in += total
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
        self.c.fulfilment.ship(
            ctx(), so.id, seller_id=so.seller_id, carrier="X", tracking_number="1"
        )
        self.c.fulfilment.deliver(ctx(), so.id, within=self.tenant, seller_id=so.seller_id)

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), share=st.integers(1, 100))
    def refund(self, data: st.DataObject, share: int) -> None:
        open_ = [
            so
            for so in self.seller_orders("paid", "shipped", "delivered", "completed")
            if so.refundable_minor > 0
        ]
        if not open_:
            return
        so = {s.id: s for s in open_}[data.draw(st.sampled_from([s.id for s in open_]))]
        amount = max(1, so.refundable_minor * share // 100)
        result, granted = self.c.refunds.request(
            ctx(),
            seller_order_id=so.id,
            within=self.tenant,
            buyer_id=None,
            amount=Money(amount, "USD"),
            reason="model",
        )
        self.c.refunds.approve(ctx(), result.id, within=self.tenant, seller_id=None)
        self.refunded += granted.amount_minor

    @precondition(lambda self: self.paid or self.pending)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from([*self.paid, *self.pending]))
        order = self.c.checkout.repository.get(order_id)
        left = 0
        for so_id in order.seller_order_ids:
            so = self.c.checkout.repository.get(so_id)
            if so.status == "paid":
                left += so.subtotal_minor - so.refunded_minor
        try:
            self.c.checkout.cancel(ctx(), order_id, self.tenant, None)
        except DomainError:
            return  # something shipped, or already cancelled: refused, nothing moved
        self.refunded += left
        if order_id in self.pending:
            self.cancelled_unpaid[order_id] = self.pending.pop(order_id)

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
        balances = {
            a["code"]: a["balance"]["amount"]
            for a in self.c.ledger_queries.accounts(scope, currency="USD")
        }
        for code, balance in balances.items():
            if code.startswith(("escrow:", "seller:payable:")):
                assert balance >= 0, (code, balance)
        assert balances.get(Chart.UNAPPLIED_PAYMENTS, 0) == 0  # late payments all went back
        released_and_paid_out = sum(
            sum(so.payouts.values()) for so in self.seller_orders("completed", "refunded")
        )
        assert released_and_paid_out == self.paid_out
        clearing = balances.get(Chart.PROCESSOR_CLEARING, 0)
        assert clearing == self.paid_in - self.refunded - self.paid_out, (
            clearing,
            self.paid_in,
            self.refunded,
            self.paid_out,
        )

    def teardown(self) -> None:
        if hasattr(self, "c"):
            self.c.close()


MoneyFlow.TestCase.settings = settings(max_examples=20, stateful_step_count=16, deadline=None)
TestMoneyFlow = MoneyFlow.TestCase
