"""Disputes over HTTP, as a payment provider reports them: Stripe's signed `charge.dispute.*`
events in Stripe's documented shapes (localstripe has no disputes), sent again and out of
order. A dispute holds the disputed amount (escrow's release waits, or a released seller's net
moves into its dispute reserve), a won one gives it back, a lost one takes it and the fee out
through the ledger; statuses, the earnings statement and the balance show it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop, intent_event
from tests.e2e.world import Marketplace

FEE = 1_500


def dispute_event(
    kind: str,
    dispute_id: str,
    intent_id: str,
    amount: int,
    status: str,
    *,
    currency: str = "usd",
) -> dict[str, Any]:
    """A Stripe event of a Dispute: its balance transactions are the withdrawal (the amount
    and the fee) and, once won, the reinstatement that gives both back."""
    withdrawal = {
        "id": f"txn_{uuid4().hex[:12]}",
        "object": "balance_transaction",
        "amount": -amount,
        "fee": FEE,
        "net": -amount - FEE,
        "type": "adjustment",
    }
    reinstated = {**withdrawal, "amount": amount, "fee": -FEE, "net": amount + FEE}
    return {
        "id": f"evt_{uuid4().hex}",
        "object": "event",
        "type": kind,
        "data": {
            "object": {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "currency": currency,
                "charge": f"ch_{uuid4().hex[:12]}",
                "payment_intent": intent_id,
                "reason": "fraudulent",
                "status": status,
                "balance_transactions": (
                    [withdrawal, reinstated]
                    if status in ("won", "warning_closed")
                    else [withdrawal]
                ),
            }
        },
    }


class DisputeScenarios(Shop):
    def setting(self, api: Api, root: str) -> tuple[Marketplace, str, str, str, str, str]:
        """A marketplace that releases escrow on delivery (10% commission), two approved
        sellers, a buyer and a finance admin: (m, seller a, its id, seller b, its id, buyer)
        with the finance admin's token kept on the scenario."""
        m = self.marketplace(api, root, moderation="auto", hold_days=0)
        seller_a, a_id = self.approved_seller(api, m)
        seller_b, b_id = self.approved_seller(api, m)
        self.finance = self.platform_user(api, root, "finance_admin")
        return m, seller_a, a_id, seller_b, b_id, self.user(api, m, "buyer")

    def paid(
        self, api: Api, container: Container, buyer: str, lines: dict[str, int], total: int
    ) -> dict[str, Any]:
        """The buyer's order, paid with a signed payment_intent.succeeded."""
        order = self.checkout(api, buyer, self.cart(api, buyer, lines)).json()
        event = intent_event("payment_intent.succeeded", order["payment"]["intent_id"], total)
        assert self.post_event(api, container, event).json()["outcome"] == "paid"
        return dict(order)

    def send(self, api: Api, container: Container, event: dict[str, Any]) -> str:
        response = self.post_event(api, container, event)
        assert response.status_code == 200, response.text
        return str(response.json()["outcome"])

    def test_a_dispute_in_escrow_holds_the_release_until_it_is_won(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, seller_id, _, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 10_000)
        order = self.paid(api, container, buyer, {product: 2}, 20_000)
        intent, so = order["payment"]["intent_id"], order["seller_orders"][0]["id"]

        opened = dispute_event("charge.dispute.created", "dp_1", intent, 20_000, "needs_response")
        assert self.send(api, container, opened) == "disputed"
        head = container.log.head()
        assert self.send(api, container, opened) == "duplicate"  # the same delivery again
        again = {**opened, "id": f"evt_{uuid4().hex}"}  # the same dispute, another event
        assert self.send(api, container, again) == "known"
        assert container.log.head() == head + 1  # only the receipt of the second event

        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert view["dispute_status"] == "open"
        assert view["dispute"]["amount"] == {"amount": 20_000, "currency": "USD"}
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert (seen["dispute_status"], seen["needs_review"]) == ("open", True)
        assert seen["review_reason"] == "the buyer disputed the charge"
        # Nothing that would move the disputed money goes through meanwhile.
        refund = api.post(
            "/v1/refunds", token=buyer, json={"seller_order_id": so, "reason": "broken"}
        )
        assert_problem(refund, 409)
        assert_problem(api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer), 409)

        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        delivered = api.post(f"/v1/seller-orders/{so}/deliver", token=seller).json()
        assert delivered["status"] == "delivered"  # delivered, but not released
        container.catch_up()
        container.scheduler.run_once(datetime.now(UTC) + timedelta(days=1))
        api.position = container.log.head()
        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert (view["status"], view["escrow_status"]) == ("delivered", "held")
        assert self.balance(api, seller, seller_id) == {
            "in_escrow": 18_000,
            "available": 0,
            "in_dispute": 18_000,
            "paid_out": 0,
        }

        won = dispute_event("charge.dispute.closed", "dp_1", intent, 20_000, "won")
        assert self.send(api, container, won) == "won"
        assert self.send(api, container, {**won, "id": f"evt_{uuid4().hex}"}) == "known"
        container.catch_up()
        container.scheduler.run_once(datetime.now(UTC) + timedelta(seconds=1))
        api.position = container.log.head()
        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert (view["status"], view["escrow_status"], view["dispute_status"]) == (
            "completed",
            "released",
            "won",
        )
        assert self.balance(api, seller, seller_id) == {
            "in_escrow": 0,
            "available": 18_000,
            "in_dispute": 0,
            "paid_out": 0,
        }
        assert accounts(api, self.finance, m.tenant_id) == {
            "processor:clearing": 20_000,
            f"escrow:{seller_id}": 0,
            f"seller:payable:{seller_id}": 18_000,
            "platform:commission": 2_000,
        }
        balanced(api, self.finance, m.tenant_id)

    def test_a_lost_dispute_takes_the_held_shares_and_the_fee_out_of_the_books(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Half of a two-seller order disputed: seller A's share was released (its net moves
        into its dispute reserve), seller B's is still in escrow. Lost: both shares leave, the
        commission on them is given back, and the sellers bear the fee pro rata."""
        m, seller_a, a_id, seller_b, b_id, buyer = self.setting(api, root)
        one = self.stocked(api, seller_a, 5, 10_000)
        other = self.stocked(api, seller_b, 5, 5_000)
        order = self.paid(api, container, buyer, {one: 1, other: 2}, 20_000)
        intent = order["payment"]["intent_id"]
        by_seller = {so["seller_id"]: so["id"] for so in order["seller_orders"]}
        so_a, so_b = by_seller[a_id], by_seller[b_id]
        api.post(
            f"/v1/seller-orders/{so_a}/ship",
            token=seller_a,
            json={"carrier": "D", "tracking_number": "1"},
        )
        api.post(f"/v1/seller-orders/{so_a}/deliver", token=seller_a)  # released at once
        assert self.balance(api, seller_a, a_id)["available"] == 9_000

        opened = dispute_event("charge.dispute.created", "dp_2", intent, 10_000, "needs_response")
        assert self.send(api, container, opened) == "disputed"
        assert self.balance(api, seller_a, a_id) == {
            "in_escrow": 0,
            "available": 4_500,
            "in_dispute": 4_500,
            "paid_out": 0,
        }
        assert self.balance(api, seller_b, b_id)["in_dispute"] == 4_500
        books = accounts(api, self.finance, m.tenant_id)
        assert books[f"seller:dispute_reserve:{a_id}"] == 4_500
        assert books[f"seller:payable:{a_id}"] == 4_500
        balanced(api, self.finance, m.tenant_id)
        # Nothing is paid out of a charge under dispute: A's only source waits.
        run = api.post("/v1/payouts/run", token=self.finance, json={"tenant_id": m.tenant_id})
        assert run.status_code == 201, run.text
        assert [p["seller_id"] for p in run.json()["payouts"]] == []

        lost = dispute_event("charge.dispute.closed", "dp_2", intent, 10_000, "lost")
        assert self.send(api, container, lost) == "lost"
        assert self.send(api, container, lost) == "duplicate"
        books = accounts(api, self.finance, m.tenant_id)
        assert books["processor:clearing"] == 20_000 - 10_000 - FEE
        assert books[f"seller:dispute_reserve:{a_id}"] == 0
        assert books[f"seller:receivable:{a_id}"] == 750  # its half of the fee
        assert books[f"seller:receivable:{b_id}"] == 750
        assert books["platform:commission"] == 500  # A's 1,000 less the 500 given back
        balanced(api, self.finance, m.tenant_id)
        assert self.balance(api, seller_a, a_id) == {
            "in_escrow": 0,
            "available": 3_750,
            "in_dispute": 0,
            "paid_out": 0,
        }
        # B's escrow keeps what the dispute left, toward its payable and the commission.
        assert self.balance(api, seller_b, b_id)["in_escrow"] == 4_500
        for token, seller_id, so in ((seller_a, a_id, so_a), (seller_b, b_id, so_b)):
            view = api.get(f"/v1/seller-orders/{so}", token=token).json()
            assert view["dispute_status"] == "lost"
            assert view["dispute"] == {
                "amount": {"amount": 5_000, "currency": "USD"},
                "lost": {"amount": 5_000, "currency": "USD"},
                "fees": {"amount": 750, "currency": "USD"},
            }
            line = api.get(f"/v1/sellers/{seller_id}/earnings", token=token).json()["items"][0]
            assert {k: line[k]["amount"] for k in ("gross", "commission", "disputes")} == {
                "gross": 10_000,
                "commission": 500,
                "disputes": 5_000,
            }
            assert (line["dispute_fees"]["amount"], line["net"]["amount"]) == (750, 3_750)
        assert api.get(f"/v1/seller-orders/{so_b}", token=seller_b).json()["escrow_status"] == (
            "partially_refunded"
        )
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert seen["dispute_status"] == "lost"

    def test_closed_before_created_and_a_platform_that_bears_the_fee(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, seller_id, _, _, buyer = self.setting(api, root)
        policy = f"/v1/tenants/{m.tenant_id}/dispute-policy"
        assert_problem(
            api.request("PUT", policy, token=seller, json={"fee_payer": "platform"}), 403
        )
        assert_problem(
            api.request("PUT", policy, token=self.finance, json={"fee_payer": "nobody"}), 422
        )
        other = self.marketplace(api, root, name="Other")
        assert_problem(
            api.request(
                "PUT",
                f"/v1/tenants/{other.tenant_id}/dispute-policy",
                token=other.admin_token,
                json={"fee_payer": "platform"},
            ),
            403,
        )
        missing = api.request(
            "PUT",
            f"/v1/tenants/{uuid4()}/dispute-policy",
            json={"fee_payer": "platform"},
            token=self.finance,
        )
        assert_problem(missing, 404)
        done = api.request("PUT", policy, token=self.finance, json={"fee_payer": "platform"})
        assert done.status_code == 200, done.text
        tenant = api.get(f"/v1/tenants/{m.tenant_id}", token=m.admin_token).json()
        assert tenant["dispute_fee_payer"] == "platform"

        product = self.stocked(api, seller, 5, 10_000)
        order = self.paid(api, container, buyer, {product: 1}, 10_000)
        intent, so = order["payment"]["intent_id"], order["seller_orders"][0]["id"]
        lost = dispute_event("charge.dispute.closed", "dp_3", intent, 10_000, "lost")
        assert self.send(api, container, lost) == "lost"  # opened and closed in one step
        opened = dispute_event("charge.dispute.created", "dp_3", intent, 10_000, "needs_response")
        head = container.log.head()
        assert self.send(api, container, opened) == "known"
        assert container.log.head() == head + 1  # its receipt, nothing else
        books = accounts(api, self.finance, m.tenant_id)
        assert books["platform:dispute_losses"] == FEE
        assert books["processor:clearing"] == 10_000 - 10_000 - FEE
        assert books[f"escrow:{seller_id}"] == 0
        assert f"seller:receivable:{seller_id}" not in books  # the seller bore no fee
        view = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert (view["status"], view["escrow_status"], view["dispute_status"]) == (
            "refunded",
            "refunded",
            "lost",
        )
        balanced(api, self.finance, m.tenant_id)

    def test_what_a_dispute_event_must_hold(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, _, _, buyer = self.setting(api, root)
        product = self.stocked(api, seller, 5, 10_000)
        order = self.paid(api, container, buyer, {product: 1}, 10_000)
        intent = order["payment"]["intent_id"]
        head = container.log.head()
        for broken in (
            {"amount": None},
            {"amount": 0},
            {"amount": "100"},
            {"currency": "dollars"},
            {"id": ""},
        ):
            event = dispute_event("charge.dispute.created", "dp_4", intent, 10_000, "open")
            event["data"]["object"].update(broken)
            assert_problem(self.post_event(api, container, event), 400)
        assert container.log.head() == head  # nothing stored
        unknown = dispute_event("charge.dispute.created", "dp_5", "pi_not_ours", 100, "open")
        assert self.send(api, container, unknown) == "ignored"
        foreign = dispute_event(
            "charge.dispute.created", "dp_6", intent, 100, "open", currency="eur"
        )
        assert self.send(api, container, foreign) == "flagged"
        unclear = dispute_event("charge.dispute.closed", "dp_7", intent, 100, "under_review")
        assert self.send(api, container, unclear) == "ignored"
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert seen["dispute_status"] == "none"
        assert seen["review_reason"] == "a dispute in EUR of an order in USD"
