"""Reconciliation with the payment provider over HTTP, written once for every provider: a day of
a marketplace (payments taken at the provider, a refund after release, a payout) reconciled
once it is over, everything matched and the provider's fees booked; planted differences (a
refund made at the provider behind Velora's back, fees the ledger lacked) found; disputes, one
lost and one won, withdrawn at the provider and told to Velora by the provider's webhooks,
matched to the ledger's dispute movements; and who may read it. A subclass says how a buyer
pays at its provider, how a refund is made there behind Velora's back, and how a buyer disputes
a charge there and the dispute closes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop

# What both test providers withdraw with a disputed amount, and give back when it is won.
DISPUTE_FEE = 1_500


def card_fee(amount: int) -> int:
    """What both test providers keep of a card charge: Stripe's 2.9% + 30, half up."""
    return (amount * 29 + 500) // 1000 + 30


def over(day: date) -> datetime:
    """A moment after `day` can be reconciled: it and the day after are over (UTC)."""
    return datetime.combine(day + timedelta(days=2), time(0, 0, 1), tzinfo=UTC)


class ReconciliationScenarios(Shop):
    def pay_at_provider(self, api: Api, container: Container, order: dict[str, Any]) -> None:
        """The buyer pays the order's intent at the provider, which tells Velora (webhook)."""
        raise NotImplementedError

    def refund_behind_velora(self, container: Container, intent_id: str, amount: int) -> str:
        """A refund made at the provider directly, by no command of Velora's: its id."""
        raise NotImplementedError

    def pay_unheard(self, container: Container, order: dict[str, Any]) -> None:
        """The buyer pays at the provider, and its webhook never reaches Velora."""
        raise NotImplementedError

    def payout_account(self, api: Api, seller: str, seller_id: str) -> None:
        """Whatever the provider needs before the seller can be paid out."""

    def pay_and_dispute(self, api: Api, container: Container, order: dict[str, Any]) -> str:
        """The buyer pays at the provider (which tells Velora) and disputes the charge with the
        card's issuer: the provider withdraws the amount and its dispute fee, and tells Velora
        (`charge.dispute.created`). The provider's dispute id."""
        raise NotImplementedError

    def close_dispute(
        self, api: Api, container: Container, order: dict[str, Any], dispute_id: str, won: bool
    ) -> None:
        """The dispute closes at the provider (won: the amount and the fee come back), which
        tells Velora (`charge.dispute.closed`)."""
        raise NotImplementedError

    def reconciled(self, api: Api, token: str, tenant_id: str, day: date) -> dict[str, Any]:
        response = api.get(
            "/v1/reconciliation", token=token, params={"date": str(day), "tenant_id": tenant_id}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def reconcile(self, api: Api, container: Container, day: date) -> None:
        container.catch_up()
        container.reconciliation_runs.run_day(day, over(day))
        api.position = container.log.head()

    def sold(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        """A marketplace's day: an order of two sellers paid at the provider, delivered and
        released at once, 2,000 of one seller's part refunded after release, and both sellers
        paid out."""
        m = self.marketplace(api, root, f"Recon{uuid4().hex[:6]}", moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        other, other_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 10_000)
        other_product = self.stocked(api, other, 5, 4_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 2, other_product: 1}))
        assert order.status_code == 201, order.text
        order = order.json()
        self.pay_at_provider(api, container, order)
        for so in order["seller_orders"]:
            owner = seller if so["seller_id"] == seller_id else other
            path = f"/v1/seller-orders/{so['id']}"
            api.post(f"{path}/ship", token=owner, json={"carrier": "DHL", "tracking_number": "1"})
            assert api.post(f"{path}/deliver", token=owner).status_code == 200
        mine = next(so for so in order["seller_orders"] if so["seller_id"] == seller_id)
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
        self.payout_account(api, seller, seller_id)
        self.payout_account(api, other, other_id)
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id}).json()
        paid = [p for p in run["payouts"] if p["status"] == "paid"]
        assert sorted(p["amount"]["amount"] for p in paid) == [3_600, 16_200]
        return {"m": m, "finance": finance, "order": order, "buyer": buyer, "seller": seller}

    def test_a_clean_day_matches_everything_and_books_the_fees(
        self, api: Api, root: str, container: Container
    ) -> None:
        day = datetime.now(UTC).date()
        shop = self.sold(api, root, container)
        m, finance = shop["m"], shop["finance"]
        auditor = self.platform_user(api, root, "auditor")
        fee = card_fee(24_000)
        assert "processor:fees" not in accounts(api, finance, m.tenant_id)  # nothing booked it

        self.reconcile(api, container, day)
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert (seen["unmatched_ledger"], seen["unmatched_provider"]) == ([], [])
        assert seen["date"] == str(day) and seen["currency"] == "USD"
        assert seen["matched"] == 5  # the charge, its fee, the refund, the two payouts
        assert sorted(x["amount"]["amount"] for x in seen["matches"]) == sorted(
            [24_000, -fee, -2_000, -16_200, -3_600]
        )
        assert seen["processor_fees"] == {"amount": fee, "currency": "USD"}
        assert [f["fee"] for f in seen["fees_booked"]] == [{"amount": fee, "currency": "USD"}]
        assert self.reconciled(api, auditor, m.tenant_id, day) == seen

        # The fee is the marketplace's expense, and clearing holds what the provider holds.
        books = accounts(api, finance, m.tenant_id)
        assert books["processor:fees"] == fee
        assert books["processor:clearing"] == 24_000 - 2_000 - 16_200 - 3_600 - fee
        balanced(api, finance, m.tenant_id)

        # Reconciled again, the day is recorded once and nothing is booked twice.
        self.reconcile(api, container, day)
        assert self.reconciled(api, finance, m.tenant_id, day) == seen
        assert accounts(api, finance, m.tenant_id)["processor:fees"] == fee

    def test_a_refund_behind_velora_an_unheard_payment_and_fees_the_ledger_lacked_are_found(
        self, api: Api, root: str, container: Container
    ) -> None:
        day = datetime.now(UTC).date()
        m = self.marketplace(api, root, f"Planted{uuid4().hex[:6]}", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 5_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay_at_provider(api, container, order)
        behind = self.refund_behind_velora(container, order["payment"]["intent_id"], 700)
        # A second order is paid at the provider, and Velora never hears of it.
        unheard = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay_unheard(container, unheard)

        self.reconcile(api, container, day)
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert seen["unmatched_ledger"] == []
        charge, refund = sorted(seen["unmatched_provider"], key=lambda i: i["type"])
        assert (charge["type"], charge["reference"], charge["amount"]["amount"]) == (
            "charge",
            f"charge:{unheard['payment']['intent_id']}",
            5_000,
        )
        assert (
            charge["reason"]
            == "a charge the ledger never booked (its payment did not reach Velora)"
        )
        assert (refund["type"], refund["source"], refund["amount"]) == (
            "refund",
            behind,
            {"amount": -700, "currency": "USD"},
        )
        assert refund["reference"] == f"refund:{behind}"
        assert refund["reason"] == "a refund made at the provider that the ledger never booked"
        # The provider kept a fee of each charge that the ledger lacked: found, and booked (the
        # provider kept it, whether or not Velora heard of the payment).
        fee = card_fee(5_000)
        assert [f["fee"]["amount"] for f in seen["fees_booked"]] == [fee, fee]
        assert seen["matched"] == 3  # the charge Velora booked, and both fees, now booked
        assert accounts(api, finance, m.tenant_id)["processor:fees"] == 2 * fee

    def test_a_lost_and_a_won_dispute_are_matched_to_the_ledgers_dispute_movements(
        self, api: Api, root: str, container: Container
    ) -> None:
        day = datetime.now(UTC).date()
        m = self.marketplace(api, root, f"Disputed{uuid4().hex[:6]}", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        product = self.stocked(api, seller, 5, 10_000)
        cheap = self.stocked(api, seller, 5, 4_000)
        lost = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        won = self.checkout(api, buyer, self.cart(api, buyer, {cheap: 1})).json()
        lost_id = self.pay_and_dispute(api, container, lost)
        won_id = self.pay_and_dispute(api, container, won)
        self.close_dispute(api, container, lost, lost_id, won=False)
        self.close_dispute(api, container, won, won_id, won=True)

        self.reconcile(api, container, day)
        seen = self.reconciled(api, finance, m.tenant_id, day)
        assert (seen["unmatched_ledger"], seen["unmatched_provider"]) == ([], [])
        matches = {x["reference"]: x for x in seen["matches"]}
        # Lost: the withdrawal of the amount and the dispute fee, against the ledger's loss
        # and fee out of clearing.
        assert matches[f"dispute:{lost_id}"]["amount"]["amount"] == -(10_000 + DISPUTE_FEE)
        assert len(matches[f"dispute:{lost_id}"]["transactions"]) == 1
        assert matches[f"dispute:{lost_id}"]["transfers"]
        # Won: withdrawn and given back, which the ledger never had to book.
        assert matches[f"dispute:{won_id}"]["amount"]["amount"] == 0
        assert len(matches[f"dispute:{won_id}"]["transactions"]) == 2
        assert matches[f"dispute:{won_id}"]["transfers"] == []
        # Both charges and their fees too.
        assert seen["matched"] == 6
        books = accounts(api, finance, m.tenant_id)
        fees = card_fee(10_000) + card_fee(4_000)
        assert books["processor:clearing"] == 10_000 + 4_000 - fees - 10_000 - DISPUTE_FEE
        balanced(api, finance, m.tenant_id)

    def test_only_finance_and_audit_read_a_day_once_it_is_reconciled(
        self, api: Api, root: str, container: Container
    ) -> None:
        day = datetime.now(UTC).date()
        m = self.marketplace(api, root, f"Roles{uuid4().hex[:6]}", moderation="auto")
        other = self.marketplace(api, root, f"Other{uuid4().hex[:6]}", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        auditor = self.platform_user(api, root, "auditor")
        product = self.stocked(api, seller, 5, 3_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay_at_provider(api, container, order)
        path, params = "/v1/reconciliation", {"date": str(day), "tenant_id": m.tenant_id}

        body = assert_problem(api.get(path, token=finance, params=params), 404)
        # Today: nothing is recorded before the day after it is over too.
        assert "once the day after it is over too" in body["detail"]
        self.reconcile(api, container, day)
        for reader in (finance, auditor):
            assert api.get(path, token=reader, params=params).status_code == 200
        for role in ("buyer", "seller", "marketplace_admin"):
            assert_problem(api.get(path, token=self.user(api, m, role), params=params), 403)
        # Another marketplace had no activity that day: nothing of this one shows under it.
        assert_problem(
            api.get(path, token=finance, params={**params, "tenant_id": other.tenant_id}), 404
        )
        assert_problem(api.get(path, token=finance, params={**params, "tenant_id": uuid4()}), 404)
        for bad in ("2026-13-01", "yesterday", ""):
            assert_problem(api.get(path, token=finance, params={**params, "date": bad}), 422)
        assert_problem(api.get(path, token=finance, params={"date": str(day)}), 422)
        earlier = str(day - timedelta(days=400))
        body = assert_problem(api.get(path, token=auditor, params={**params, "date": earlier}), 404)
        assert "not reconciled" in body["detail"]
