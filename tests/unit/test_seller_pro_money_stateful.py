"""Model-based test of a Seller Pro business's money (issue 33): one organisation sells one master
product, with two variants and one stock, on two marketplaces, one in USD and one in EUR, each
with its own commission, through the real applications and projections on the embedded store.

Rules, in random interleavings: checkouts in either marketplace (refused when the one stock has
too few units left), payment webhooks (succeeding or failing, repeated, and one in the other
marketplace's currency), shipping and delivery with escrow released, partial refunds (and one in
the other currency, refused), cancellations, payouts in either marketplace, and restocking.

After every step, in each marketplace and in its currency alone: its books balance; it has no
account in the other currency; its escrow, commission (earned and pending), the seller's payable
and pending transfers and its processor clearing hold what the reference (tests/unit/
money_reference.py) says is left of its own seller orders; the organisation's balances show each
marketplace in its own currency with exactly its figures, and its payouts each in the currency
of the marketplace that made it. And the stock is one: each master variant's available count is
what the organisation put on hand less every unit either marketplace's live orders took, and
both listings show that number."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from api.bootstrap import Container
from domain.base import PLATFORM_TENANT_ID
from domain.commission import commission_of
from domain.errors import DomainError, Invalid
from domain.inventory import Stock
from domain.ledger import Chart
from domain.money import Money, money_json
from domain.settlement import settlement_id
from eventstore.context import CommandContext
from projections.scope import TenantScope
from tests.conftest import built, make_settings
from tests.unit.money_reference import Given, Line, SellerOrderRef, minus

ADDRESS = {"name": "M", "line1": "1", "city": "C", "postal_code": "1", "country": "DE"}
CURRENCIES = ("USD", "EUR")


def ctx() -> CommandContext:
    return CommandContext.system("model")


class Marketplace:
    """One marketplace the organisation sells on, as the model keeps it."""

    def __init__(self, tenant: UUID, currency: str, commission: int) -> None:
        self.tenant, self.currency, self.commission = tenant, currency, commission
        self.seller: UUID = uuid4()
        self.listing: UUID = uuid4()
        self.variants: list[UUID] = []  # the listing's variants, as the master's are ordered
        self.prices: list[int] = []
        self.paid_in = self.refunded = self.paid_out = 0

    @property
    def scope(self) -> TenantScope:
        return TenantScope.only(self.tenant)


class SellerProMoney(RuleBasedStateMachine):
    @initialize(
        commissions=st.tuples(st.integers(0, 3000), st.integers(0, 3000)),
        prices=st.lists(st.integers(1, 50_000), min_size=4, max_size=4),
        on_hand=st.tuples(st.integers(2, 8), st.integers(2, 8)),
    )
    def open_marketplaces(
        self, commissions: tuple[int, int], prices: list[int], on_hand: tuple[int, int]
    ) -> None:
        self.c: Container = built(make_settings(Path(tempfile.mkdtemp())))
        c = self.c
        self.markets = [
            Marketplace(
                c.identity.register_tenant(
                    ctx(),
                    name=f"M{currency}",
                    currency=currency,
                    commission_bps=commission,
                    escrow_hold_days=0,
                    product_moderation="auto",
                ).id,
                currency,
                commission,
            )
            for currency, commission in zip(CURRENCIES, commissions, strict=True)
        ]
        self.organisation = c.organisations.found(ctx(), uuid4(), "Fluxori").id
        master = c.catalog.create_master(
            ctx(),
            self.organisation,
            {
                "sku": "LAMP",
                "title": "Lamp",
                "description": "",
                "category": "lighting",
                "attributes": {},
                "options": [{"name": "Colour", "values": ["Brass", "Black"]}],
                "variants": [
                    {"sku": "LAMP-BR", "options": {"Colour": "Brass"}},
                    {"sku": "LAMP-BK", "options": {"Colour": "Black"}},
                ],
            },
        )
        self.master = master.id
        self.master_variants = master.variant_ids
        self.on_hand = list(on_hand)
        self.taken = [0, 0]  # units live orders (pending or paid) in either marketplace hold
        for variant, count in zip(self.master_variants, on_hand, strict=True):
            c.catalog.set_master_stock(ctx(), self.organisation, self.master, variant, "w", count)
        for i, m in enumerate(self.markets):
            m.seller = c.organisations.join(ctx(), self.organisation, m.tenant, "Fluxori", "DE").id
            c.sellers.approve(ctx(), m.seller, m.tenant)
            m.prices = prices[2 * i : 2 * i + 2]
            result, status = c.catalog.publish(
                ctx(),
                self.organisation,
                self.master,
                m.tenant,
                Money(m.prices[0], m.currency),
                None,
                {
                    variant: Money(price, m.currency)
                    for variant, price in zip(self.master_variants, m.prices, strict=True)
                },
            )
            assert status == "active"
            m.listing = result.id
            listing = c.catalog.repository.get(m.listing)
            shared = listing.shared["variants"]
            by_master = {UUID(master_variant): UUID(v) for v, master_variant in shared.items()}
            m.variants = [by_master[v] for v in self.master_variants]
        # The reference: each seller order as the model priced it, in its marketplace; each
        # order's marketplace, seller order, variant and units.
        self.ref: dict[UUID, SellerOrderRef] = {}
        self.orders: dict[UUID, tuple[Marketplace, UUID, int, int]] = {}
        self.pending: dict[UUID, tuple[str, int]] = {}  # order -> (intent, total)
        self.paid: dict[UUID, None] = {}
        self.events: list[tuple[Marketplace, str, str, int, bool]] = []
        # To begin with, an order paid in each marketplace, the EUR one delivered and released:
        # the rules that need one (refunds, payouts, cancellation) can run from the first step.
        for market, variant in ((0, 0), (1, 1)):
            self.checkout(market, variant, 1)
            order_id = next(iter(self.pending))
            self.pay(order_id, True)
        eur = next(ref for m, ref in self.refs() if m.currency == "EUR")
        self.deliver(self.markets[1], eur)

    # -- buying ---------------------------------------------------------------------------------

    @rule(market=st.integers(0, 1), variant=st.integers(0, 1), quantity=st.integers(1, 3))
    def checkout(self, market: int, variant: int, quantity: int) -> None:
        m, c = self.markets[market], self.c
        buyer = uuid4()
        cart = c.checkout.open_cart(ctx(), m.tenant, buyer).id
        c.checkout.set_quantity(ctx(), cart, buyer, m.variants[variant], quantity)
        left = max(0, self.on_hand[variant] - self.taken[variant])
        try:
            done = c.checkout.checkout(
                ctx(),
                tenant_id=m.tenant,
                buyer_id=buyer,
                cart_id=cart,
                shipping_address=ADDRESS,
                idempotency_key=str(uuid4()),
                shipping=None,
            )
        except DomainError:
            assert quantity > left, ("refused with units left", quantity, left)
            return
        assert quantity <= left, ("sold units the one stock did not have", quantity, left)
        self.taken[variant] += quantity
        (so_id,) = done.order.seller_order_ids
        so = c.checkout.repository.get(so_id)
        gross = m.prices[variant] * quantity
        assert (so.currency, so.seller_id, so.gross_minor) == (m.currency, m.seller, gross)
        assert so.commission_minor == commission_of(gross, m.commission)
        assert done.order.total_minor == gross and done.order.currency == m.currency
        self.ref[so_id] = SellerOrderRef(
            so_id,
            m.seller,
            [Line(m.variants[variant], quantity, "", gross, 0, 0)],
            0,
            0,
            so.commission_minor,
        )
        self.orders[done.order.id] = (m, so_id, variant, quantity)
        self.pending[done.order.id] = (done.order.payment["intent_id"], gross)

    def send(self, m: Marketplace, event_id: str, intent: str, amount: int, ok: bool) -> str:
        return self.c.checkout.apply_payment_event(
            ctx(),
            provider="local",
            event_id=event_id,
            event_type="payment_intent.succeeded" if ok else "payment_intent.payment_failed",
            intent_id=intent,
            amount_minor=amount,
            currency=m.currency.lower(),
            succeeded=ok,
        )

    @precondition(lambda self: self.pending)
    @rule(data=st.data(), ok=st.booleans())
    def webhook(self, data: st.DataObject, ok: bool) -> None:
        self.pay(data.draw(st.sampled_from(list(self.pending))), ok)

    def pay(self, order_id: UUID, ok: bool) -> None:
        m, so_id, variant, quantity = self.orders[order_id]
        intent, total = self.pending[order_id]
        event_id = f"evt_{uuid4().hex}"
        outcome = self.send(m, event_id, intent, total, ok)
        self.events.append((m, event_id, intent, total, ok))
        del self.pending[order_id]
        if ok:
            assert outcome == "paid", outcome
            self.paid[order_id] = None
            self.ref[so_id].paid = True
            m.paid_in += total
        else:
            assert outcome == "cancelled", outcome
            self.taken[variant] -= quantity

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def a_payment_in_the_other_currency(self, data: st.DataObject) -> None:
        """The amount due, in the other marketplace's currency: it pays nothing and books
        nothing (the order waits for its own currency)."""
        order_id = data.draw(st.sampled_from(list(self.pending)))
        m = self.orders[order_id][0]
        other = next(x for x in self.markets if x is not m)
        intent, total = self.pending[order_id]
        assert self.send(other, f"evt_{uuid4().hex}", intent, total, True) == "flagged"

    @precondition(lambda self: self.events)
    @rule(data=st.data())
    def a_provider_event_arrives_again(self, data: st.DataObject) -> None:
        assert self.send(*data.draw(st.sampled_from(self.events))) == "duplicate"

    # -- after payment --------------------------------------------------------------------------

    def refs(self, *, paid: bool = True) -> list[tuple[Marketplace, SellerOrderRef]]:
        return [
            (m, self.ref[so_id])
            for m, so_id, _, _ in self.orders.values()
            if self.ref[so_id].paid or not paid
        ]

    @precondition(lambda self: self.paid)
    @rule(data=st.data())
    def ship_and_deliver(self, data: st.DataObject) -> None:
        ready = [(m, ref) for m, ref in self.refs() if ref.in_escrow]
        if not ready:
            return
        m, ref = data.draw(st.sampled_from(ready))
        so = self.c.checkout.repository.get(ref.id)
        if so.status != "paid":
            return  # shipped already (a refund that emptied escrow left it there)
        self.deliver(m, ref)

    def deliver(self, m: Marketplace, ref: SellerOrderRef) -> None:
        self.c.fulfilment.ship(ctx(), ref.id, seller_id=m.seller, carrier="X", tracking_number="1")
        self.c.fulfilment.deliver(ctx(), ref.id, within=m.tenant, seller_id=m.seller)
        ref.release()

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), share=st.integers(1, 100))
    def refund(self, data: st.DataObject, share: int) -> None:
        open_ = [(m, ref) for m, ref in self.refs() if ref.paid_left > 0]
        if not open_:
            return
        m, ref = data.draw(st.sampled_from(open_))
        amount = max(1, ref.paid_left * share // 100)
        result, granted = self.c.refunds.request(
            ctx(),
            seller_order_id=ref.id,
            within=m.tenant,
            buyer_id=None,
            amount=Money(amount, m.currency),
            reason="model",
        )
        self.c.refunds.approve(ctx(), result.id, within=m.tenant, seller_id=None)
        settled = self.c.checkout.get_or_none(settlement_id(ref.id))
        given = Given(
            settled.refunded_minor - ref.paid_back,
            minus(dict(settled.tax_returned or {}), ref.tax_back),
            settled.platform_returned_minor - ref.funded_back,
            ref.commission_left - settled.escrow_commission_minor,
        )
        assert given.amount == granted.amount_minor == amount
        assert granted.currency == m.currency
        ref.refunded_in_proportion(given)
        m.refunded += amount

    @precondition(lambda self: self.paid)
    @rule(data=st.data())
    def a_refund_in_the_other_currency(self, data: st.DataObject) -> None:
        m, ref = data.draw(st.sampled_from(self.refs()))
        other = next(x for x in self.markets if x is not m)
        head = self.c.log.head()
        try:
            self.c.refunds.request(
                ctx(),
                seller_order_id=ref.id,
                within=m.tenant,
                buyer_id=None,
                amount=Money(1, other.currency),
                reason="model",
            )
        except Invalid:
            pass
        else:
            raise AssertionError("a refund in another currency was taken")
        assert self.c.log.head() == head

    @precondition(lambda self: self.paid or self.pending)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from([*self.paid, *self.pending]))
        m, so_id, variant, quantity = self.orders[order_id]
        try:
            self.c.checkout.cancel(ctx(), order_id, m.tenant, None)
        except DomainError:
            return  # shipped, or cancelled already: refused, nothing moved
        ref = self.ref[so_id]
        if ref.paid:
            m.refunded += ref.cancel()
            del self.paid[order_id]
        else:
            del self.pending[order_id]
        self.taken[variant] -= quantity

    @rule(market=st.integers(0, 1))
    def payouts(self, market: int) -> None:
        m = self.markets[market]
        self.c.catch_up()
        run = self.c.payout_runs.run(ctx(), m.scope, run_key=str(uuid4()))
        for payout in run.made:
            assert payout.amount.currency == m.currency
            if payout.status == "paid":
                m.paid_out += payout.amount.amount_minor

    @rule(variant=st.integers(0, 1), on_hand=st.integers(0, 8))
    def restock(self, variant: int, on_hand: int) -> None:
        self.c.catalog.set_master_stock(
            ctx(), self.organisation, self.master, self.master_variants[variant], "w", on_hand
        )
        self.on_hand[variant] = on_hand

    # -- what must hold after every step ---------------------------------------------------------

    @invariant()
    def one_stock(self) -> None:
        if not hasattr(self, "c"):
            return
        self.c.catch_up()
        for i, variant in enumerate(self.master_variants):
            left = max(0, self.on_hand[i] - self.taken[i])
            stock: Stock = self.c.catalog.repository.get(Stock.create_id(variant))
            assert stock.available == left, (i, stock.available, left)
            for m in self.markets:
                shown = self.c.catalog_queries.product(m.scope, str(m.listing))
                assert shown is not None
                by_id = {v["id"]: v for v in shown["variants"]}
                assert by_id[str(m.variants[i])]["available"] == left

    @invariant()
    def each_marketplace_keeps_its_own_books(self) -> None:
        if not hasattr(self, "c"):
            return
        self.c.catch_up()
        ledger = self.c.ledger_queries
        reach = self.c.organisation_dashboard.reach(
            TenantScope.only(PLATFORM_TENANT_ID), str(self.organisation)
        )
        assert reach is not None
        balances = self.c.organisation_dashboard.balances(reach)
        assert [(b["tenant_id"], b["seller_id"]) for b in balances] == [
            (str(m.tenant), str(m.seller)) for m in self.markets
        ]
        for m, shown in zip(self.markets, balances, strict=True):
            other = next(x for x in self.markets if x is not m).currency
            assert ledger.trial_balance(m.scope)["balanced"]
            assert ledger.accounts(m.scope, currency=other) == []
            accounts = {a["code"]: a for a in ledger.accounts(m.scope, currency=m.currency)}

            def balance(code: str, side: str = "balance", accounts: Any = accounts) -> int:
                return int(accounts[code][side]["amount"]) if code in accounts else 0

            mine = [ref for ref in self.ref.values() if ref.paid and ref.seller == m.seller]
            held = [ref for ref in mine if ref.in_escrow]
            released = [ref for ref in mine if ref.released]
            assert balance(Chart.escrow(m.seller)) == sum(ref.goods_left for ref in held)
            payable = Chart.seller_payable(m.seller)
            assert balance(payable, "credits_pending") == sum(ref.net_left for ref in held)
            commission = Chart.PLATFORM_COMMISSION
            assert balance(commission) == sum(ref.commission_left for ref in released)
            assert balance(commission, "credits_pending") == sum(
                ref.commission_left for ref in held
            )
            position = balance(payable) - balance(Chart.seller_receivable(m.seller))
            owed = sum(ref.net_left for ref in released) - m.paid_out
            assert position == owed, (m.currency, position, owed)
            assert balance(Chart.PROCESSOR_CLEARING) == m.paid_in - m.refunded - m.paid_out
            # The organisation sees this marketplace's figures, in its currency alone.
            assert {k: v for k, v in shown.items() if k not in ("tenant_id", "seller_id")} == {
                "in_escrow": money_json(sum(ref.net_left for ref in held), m.currency),
                "available": money_json(owed, m.currency),
                "in_dispute": money_json(0, m.currency),
                "paid_out": money_json(m.paid_out, m.currency),
            }
        payouts = self.c.organisation_dashboard.payouts(reach, limit=500, cursor=None).items
        currency_of = {str(m.tenant): m.currency for m in self.markets}
        for payout in payouts:
            assert payout["amount"]["currency"] == currency_of[payout["tenant_id"]]

    def teardown(self) -> None:
        if hasattr(self, "c"):
            self.c.close()


SellerProMoney.TestCase.settings = settings(
    max_examples=int(os.environ.get("VELORA_MODEL_EXAMPLES", "20")),
    stateful_step_count=25,
    deadline=None,
)
TestSellerProMoney = SellerProMoney.TestCase
