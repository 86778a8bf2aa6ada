"""The StripeProvider through Stripe's official SDK against localstripe, and the whole money
flow of a marketplace that takes payments with Stripe: intents, signed webhooks built from the
intent Stripe holds, refunds, and Connect transfers tied to their source charges."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import stripe
from fastapi.testclient import TestClient

from adapters.payments.stripe import StripeProvider
from api.app import create_app
from api.bootstrap import Container
from domain.money import Money
from domain.payments import PaymentProvider, PayoutSource, ProviderRejected, ProviderUnavailable
from tests.conftest import built, make_settings
from tests.contract.payments_contract import PaymentProviderContract
from tests.e2e.client import Api
from tests.e2e.dispute_scenarios import DisputeScenarios
from tests.e2e.money_scenarios import accounts, balanced, signed
from tests.e2e.shop import Shop

API_KEY = "sk_test_velora_localstripe"
WEBHOOK_SECRET = "whsec_velora_localstripe_0123456789abcdef"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
# Stripe's test card whose charge succeeds and is then disputed (scripts/localstripe_server.py).
DISPUTED_CARD = {**CARD, "number": "4000000000000259"}


@pytest.fixture
def client(stripe_server: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": stripe_server})  # type: ignore[typeddict-item]


@pytest.fixture
def provider(stripe_server: str) -> StripeProvider:
    return StripeProvider(API_KEY, api_base=stripe_server)


def pay_at_stripe(client: stripe.StripeClient, intent_id: str, card: dict[str, Any] = CARD) -> Any:
    """What the buyer's browser does with the client secret: attach a card and confirm."""
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})  # type: ignore[typeddict-item]
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return client.v1.payment_intents.confirm(intent_id)


def transfers_to(client: stripe.StripeClient, account: str) -> list[Any]:
    """Every transfer to `account`, through all pages: the server outlives one test."""
    every = client.v1.transfers.list(params={"limit": 100}).auto_paging_iter()
    return [t for t in every if t.destination == account]


def charge_of(intent: Any) -> str:
    latest = intent.latest_charge
    return latest if isinstance(latest, str) else latest.id


class TestStripeProvider:
    def test_an_intent_names_its_order_and_repeats_by_key(
        self, provider: StripeProvider, client: stripe.StripeClient
    ) -> None:
        order_id = uuid4()
        key = f"velora-order-{order_id}"
        first = provider.create_intent(
            order_id=order_id, amount=Money(2_599, "EUR"), idempotency_key=key
        )
        again = provider.create_intent(
            order_id=order_id, amount=Money(2_599, "EUR"), idempotency_key=key
        )
        other = provider.create_intent(
            order_id=order_id, amount=Money(2_599, "EUR"), idempotency_key=f"{key}-other"
        )
        assert (first.intent_id, first.client_secret) == (again.intent_id, again.client_secret)
        assert other.intent_id != first.intent_id
        assert first.amount == Money(2_599, "EUR")
        held = client.v1.payment_intents.retrieve(first.intent_id)
        assert (held.amount, held.currency) == (2_599, "eur")
        assert held.transfer_group == str(order_id)
        assert held.metadata["velora_order_id"] == str(order_id)

    def test_refunds_are_partial_and_happen_once_per_key(
        self, provider: StripeProvider, client: stripe.StripeClient
    ) -> None:
        intent = provider.create_intent(
            order_id=uuid4(), amount=Money(5_000, "USD"), idempotency_key=f"k-{uuid4()}"
        )
        pay_at_stripe(client, intent.intent_id)
        key = f"velora-refund-{uuid4()}"
        first = provider.refund(
            intent_id=intent.intent_id, amount=Money(1_200, "USD"), idempotency_key=key
        )
        again = provider.refund(
            intent_id=intent.intent_id, amount=Money(1_200, "USD"), idempotency_key=key
        )
        assert first == again
        refunds = client.v1.refunds.list(params={"payment_intent": intent.intent_id}).data
        assert [(r.id, r.amount) for r in refunds] == [(first, 1_200)]
        with pytest.raises(ProviderRejected):  # the same key with another amount is refused
            provider.refund(
                intent_id=intent.intent_id, amount=Money(1_300, "USD"), idempotency_key=key
            )

    def test_payouts_are_connect_transfers_out_of_their_source_charges(
        self, provider: StripeProvider, client: stripe.StripeClient
    ) -> None:
        order_id = uuid4()
        intent = provider.create_intent(
            order_id=order_id, amount=Money(10_000, "USD"), idempotency_key=f"k-{uuid4()}"
        )
        charge = charge_of(pay_at_stripe(client, intent.intent_id))
        account = client.v1.accounts.create(params={"type": "express"}).id
        source = PayoutSource(uuid4(), order_id, charge, 9_000)
        key = f"velora-payout-{uuid4()}"
        ids = provider.pay_out(
            destination=account, currency="USD", sources=[source], idempotency_key=key
        )
        assert (
            provider.pay_out(
                destination=account, currency="USD", sources=[source], idempotency_key=key
            )
            == ids
        )
        transfer = client.v1.transfers.retrieve(ids[0])
        assert (transfer.amount, transfer.currency, transfer.destination) == (9_000, "usd", account)
        assert (transfer.source_transaction, transfer.transfer_group) == (charge, str(order_id))
        too_much = PayoutSource(uuid4(), order_id, charge, 1_001)  # only 1,000 is left of it
        with pytest.raises(ProviderRejected):
            provider.pay_out(
                destination=account,
                currency="USD",
                sources=[too_much],
                idempotency_key=f"k-{uuid4()}",
            )
        with pytest.raises(ProviderRejected):
            provider.pay_out(
                destination=None, currency="USD", sources=[source], idempotency_key="x"
            )

    def test_an_unreachable_stripe_is_unavailable_not_refused(self) -> None:
        down = StripeProvider(API_KEY, api_base="http://127.0.0.1:9", max_retries=0)
        with pytest.raises(ProviderUnavailable):
            down.create_intent(order_id=uuid4(), amount=Money(100, "USD"), idempotency_key="k")


class WithStripe:
    """A deployment whose payment provider is Stripe (localstripe), served as `velora serve`
    serves it."""

    @pytest.fixture
    def container(self, tmp_path: Path, stripe_server: str) -> Iterator[Container]:
        container = built(
            make_settings(
                tmp_path / "velora",
                stripe_api_key=API_KEY,
                stripe_api_base=stripe_server,
                stripe_webhook_secret=WEBHOOK_SECRET,
            )
        )
        yield container
        container.close()

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)


class TestStripeDisputes(WithStripe, DisputeScenarios):
    """Disputes of charges made through Stripe: their intents are Stripe's, the provider
    Velora names them under is `stripe`."""


class TestStripeMarketplace(WithStripe, Shop):
    """A marketplace whose payment provider is Stripe, from checkout to payout."""

    def webhook(self, api: Api, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": f"evt_{uuid4().hex}",
            "object": "event",
            "type": kind,
            "data": {"object": obj},
        }
        payload, signature = signed(WEBHOOK_SECRET, event)
        response = api.post(
            "/v1/webhooks/stripe", content=payload, headers={"Stripe-Signature": signature}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def paid_through_stripe(self, api: Api, client: stripe.StripeClient, intent_id: str) -> str:
        """The buyer pays at Stripe; Stripe's payment_intent.succeeded carries the intent as
        Stripe holds it, its latest charge by id."""
        intent = pay_at_stripe(client, intent_id)
        held = client.v1.payment_intents.retrieve(intent_id).to_dict()
        held["latest_charge"] = charge_of(intent)
        assert self.webhook(api, "payment_intent.succeeded", held)["outcome"] == "paid"
        return str(held["latest_charge"])

    def test_checkout_to_payout_through_stripe(
        self, api: Api, root: str, container: Container, client: stripe.StripeClient
    ) -> None:
        m = self.marketplace(api, root, "Striped", moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        unconnected, unconnected_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 10_000)
        other_product = self.stocked(api, unconnected, 5, 4_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 2, other_product: 1}))
        assert order.status_code == 201, order.text
        order = order.json()
        assert order["payment"]["provider"] == "stripe"
        intent_id = order["payment"]["intent_id"]
        held = client.v1.payment_intents.retrieve(intent_id)
        assert (held.amount, held.currency, held.transfer_group) == (
            24_000,
            "usd",
            order["order_id"],
        )

        charge = self.paid_through_stripe(api, client, intent_id)
        for so in order["seller_orders"]:
            owner = seller if so["seller_id"] == seller_id else unconnected
            api.post(
                f"/v1/seller-orders/{so['id']}/ship",
                token=owner,
                json={"carrier": "DHL", "tracking_number": "JD1"},
            )
            api.post(f"/v1/seller-orders/{so['id']}/deliver", token=owner)
        mine = next(so for so in order["seller_orders"] if so["seller_id"] == seller_id)

        # A refund after release goes back through Stripe and is charged to the seller.
        refund = api.post(
            "/v1/refunds",
            token=buyer,
            json={
                "seller_order_id": mine["id"],
                "reason": "scratched",
                "amount": {"amount": 2_000, "currency": "USD"},
            },
        ).json()
        assert api.post(f"/v1/refunds/{refund['id']}/approve", token=seller).status_code == 200
        assert [
            r.amount for r in client.v1.refunds.list(params={"payment_intent": intent_id}).data
        ] == [2_000]

        account = client.v1.accounts.create(params={"type": "express"}).id
        api.request(
            "PUT",
            f"/v1/sellers/{seller_id}/payout-account",
            token=seller,
            json={"account_id": account},
        )
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id}).json()
        # 18,000 net, less the 1,800 charged back (2,000 less 200 commission reversed).
        assert [(p["seller_id"], p["amount"]["amount"], p["status"]) for p in run["payouts"]] == [
            (seller_id, 16_200, "paid")
        ]
        assert run["skipped"] == [
            {"seller_id": unconnected_id, "reason": "the seller has no payout account"}
        ]
        transfers = transfers_to(client, account)
        assert [(t.amount, t.source_transaction, t.transfer_group) for t in transfers] == [
            (16_200, charge, order["order_id"])
        ]
        assert self.balance(api, seller, seller_id) == {
            "in_escrow": 0,
            "available": 0,
            "in_dispute": 0,
            "paid_out": 16_200,
        }
        balanced(api, finance, m.tenant_id)

    def test_a_refused_payout_fails_and_an_unreachable_one_waits(
        self, api: Api, root: str, container: Container, client: stripe.StripeClient
    ) -> None:
        m = self.marketplace(api, root, "Refused", moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 5_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.paid_through_stripe(api, client, order["payment"]["intent_id"])
        so = order["seller_orders"][0]["id"]
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)

        # Stripe knows no such account: the payout fails and the money is available again.
        path = f"/v1/sellers/{seller_id}/payout-account"
        api.request("PUT", path, token=seller, json={"account_id": "acct_doesnotexist"})
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id}).json()
        assert [(p["amount"]["amount"], p["status"]) for p in run["payouts"]] == [(4_500, "failed")]
        listed = api.get("/v1/payouts", token=seller).json()["items"]
        assert listed[0]["status"] == "failed" and "Stripe refused" in listed[0]["failure_reason"]
        assert self.balance(api, seller, seller_id)["available"] == 4_500

        # Stripe cannot be reached: the payout stays pending with its money reserved...
        account = client.v1.accounts.create(params={"type": "express"}).id
        api.request("PUT", path, token=seller, json={"account_id": account})
        reachable = container.payouts.payments
        container.payouts.payments = StripeProvider(
            API_KEY, api_base="http://127.0.0.1:9", max_retries=0
        )
        try:
            run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id}).json()
        finally:
            container.payouts.payments = reachable
        assert [(p["amount"]["amount"], p["status"]) for p in run["payouts"]] == [
            (4_500, "pending")
        ]
        assert self.balance(api, seller, seller_id) == {
            "in_escrow": 0,
            "available": 0,
            "in_dispute": 0,
            "paid_out": 0,
        }
        # ...and the next run asks again, with the same key, and it is paid once.
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id}).json()
        assert [(p["amount"]["amount"], p["status"]) for p in run["payouts"]] == [(4_500, "paid")]
        assert [t.amount for t in transfers_to(client, account)] == [4_500]
        assert self.balance(api, seller, seller_id)["paid_out"] == 4_500
        assert accounts(api, finance, m.tenant_id)[f"seller:payable:{seller_id}"] == 0

    def test_cancelling_a_paid_order_refunds_it_at_stripe(
        self, api: Api, root: str, container: Container, client: stripe.StripeClient
    ) -> None:
        m = self.marketplace(api, root, "Undo", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 5, 3_300)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        intent_id = order["payment"]["intent_id"]
        self.paid_through_stripe(api, client, intent_id)
        assert api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer).status_code == 200
        assert [
            r.amount for r in client.v1.refunds.list(params={"payment_intent": intent_id}).data
        ] == [3_300]

        # A second order expires unpaid; the buyer pays it anyway: Velora gives it back.
        late = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        api.post(f"/v1/orders/{late['order_id']}/cancel", token=buyer)
        late_intent = late["payment"]["intent_id"]
        intent = pay_at_stripe(client, late_intent)
        held = client.v1.payment_intents.retrieve(late_intent).to_dict()
        held["latest_charge"] = charge_of(intent)
        assert self.webhook(api, "payment_intent.succeeded", held)["outcome"] == "refunded"
        assert [
            r.amount for r in client.v1.refunds.list(params={"payment_intent": late_intent}).data
        ] == [3_300]
        seen = api.get(f"/v1/orders/{late['order_id']}", token=buyer).json()
        assert seen["payment"]["returned"] == {"amount": 3_300, "currency": "USD"}


class TestStripeBalanceTransactions(PaymentProviderContract):
    """Stripe's balance transactions through the SDK, against the payment provider contract."""

    @pytest.fixture
    def provider(self, stripe_server: str) -> PaymentProvider:
        self.client = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_server})  # type: ignore[typeddict-item]
        return StripeProvider(API_KEY, api_base=stripe_server)

    def buyer_pays(self, provider: PaymentProvider, intent_id: str, amount: Money) -> str:
        return charge_of(pay_at_stripe(self.client, intent_id))

    def seller_account(self) -> str | None:
        return str(self.client.v1.accounts.create(params={"type": "express"}).id)

    def buyer_pays_and_disputes(
        self, provider: PaymentProvider, intent_id: str, amount: Money
    ) -> str:
        pay_at_stripe(self.client, intent_id, card=DISPUTED_CARD)
        [dispute] = self.client.v1.disputes.list(params={"payment_intent": intent_id}).data
        return str(dispute.id)

    def dispute_won(self, provider: PaymentProvider, dispute_id: str) -> None:
        evidence = {"uncategorized_text": "winning_evidence"}
        self.client.v1.disputes.update(dispute_id, params={"evidence": evidence})
