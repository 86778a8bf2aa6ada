"""Seller plans (issue 18, point 7) over HTTP: marketplace admins define plans; a seller chooses,
changes and leaves one; the fee is charged pro rata to its balance and netted at payout; the
commission at checkout carries the plan's discount; the product limit holds. Each backend set
runs these scenarios; the money model (tests/unit/test_money_flow_stateful.py) drives plans at
random moments against a reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import uuid4

import httpx

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts
from tests.e2e.shop import Shop, price
from tests.e2e.world import Marketplace


def month_bounds(at: datetime) -> tuple[datetime, datetime]:
    start = datetime(at.year, at.month, 1, tzinfo=UTC)
    return start, datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)


def rest_of_month(fee: int, response: httpx.Response) -> int:
    """A fee for the rest of the month from when the change took effect, to the second, half to
    even (Python's round of a Fraction rounds half to even)."""
    at = datetime.fromisoformat(response.json()["effective_at"])
    start, end = month_bounds(at)
    return round(
        Fraction(fee * int((end - at).total_seconds()), int((end - start).total_seconds()))
    )


class PlanScenarios(Shop):
    def plan(self, api: Api, m: Marketplace, name: str, fee: int, **terms: Any) -> str:
        body = {
            "name": name,
            "monthly_fee": price(fee),
            "product_limit": terms.get("product_limit"),
            "commission_discount_bps": terms.get("discount", 0),
        }
        return api.created(api.post("/v1/plans", token=m.admin_token, json=body))

    def choose(self, api: Api, seller: str, seller_id: str, plan_id: str) -> httpx.Response:
        path = f"/v1/sellers/{seller_id}/plan"
        return api.request("PUT", path, token=seller, json={"plan_id": plan_id})

    def earnings(self, api: Api, token: str, seller_id: str) -> list[dict[str, Any]]:
        response = api.get(f"/v1/sellers/{seller_id}/earnings", token=token)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def test_a_plan_is_charged_pro_rata_discounts_commission_and_is_netted_at_payout(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Plans", moderation="auto", hold_days=0)
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        basic = self.plan(api, m, "Basic", 3_000, product_limit=5, discount=300)
        pro = self.plan(api, m, "Pro", 9_000, discount=1_500)
        listed = api.get("/v1/plans", token=seller).json()["items"]
        assert [(p["name"], p["monthly_fee"]["amount"], p["product_limit"]) for p in listed] == [
            ("Basic", 3_000, 5),
            ("Pro", 9_000, None),
        ]

        chose = self.choose(api, seller, seller_id, basic)
        assert chose.status_code == 200, chose.text
        charged = chose.json()["charged"]["amount"]
        assert charged == rest_of_month(3_000, chose)
        assert chose.json()["credited"]["amount"] == 0
        assert self.balance(api, seller, seller_id)["available"] == -charged
        seller_view = api.get(f"/v1/sellers/{seller_id}", token=seller).json()
        assert (seller_view["plan"]["id"], seller_view["plan"]["name"]) == (basic, "Basic")
        # The same plan again: nothing more is charged.
        again = self.choose(api, seller, seller_id, basic)
        assert again.json()["charged"]["amount"] == 0
        assert self.balance(api, seller, seller_id)["available"] == -charged

        # Commission at checkout: the tenant's 10% less the plan's 3%.
        product = self.stocked(api, seller, 5, 10_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 2})).json()
        assert order["seller_orders"][0]["commission"]["amount"] == 1_400
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "UPS", "tracking_number": "1Z"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        assert self.balance(api, seller, seller_id)["available"] == 18_600 - charged

        # Moving to Pro charges its rest of the month and gives back what Basic had left.
        moved = self.choose(api, seller, seller_id, pro)
        assert moved.status_code == 200, moved.text
        pro_charged, credited = (
            moved.json()["charged"]["amount"],
            moved.json()["credited"]["amount"],
        )
        assert pro_charged == rest_of_month(9_000, moved)
        # Basic is given back its rest of the month from the move: what it was charged for the
        # rest of the month from the choice, less the time used, each to the second.
        used = rest_of_month(3_000, chose) - rest_of_month(3_000, moved)
        assert abs(charged - credited - used) <= 1
        fees = charged - credited + pro_charged
        assert self.balance(api, seller, seller_id)["available"] == 18_600 - fees
        books = accounts(api, finance, m.tenant_id)
        assert books["platform:plan_fees"] == fees

        # The earnings statement lists the seller order and each plan charge, in order.
        lines = [
            (line["kind"], line["status"], line["net"]["amount"])
            for line in self.earnings(api, seller, seller_id)
        ]
        assert lines == [
            ("plan_fee", "subscribed", -charged),
            ("seller_order", "completed", 18_600),
            ("plan_fee", "changed", credited - pro_charged),
        ]

        # The payout pays what is owed net of the fees.
        run = api.post("/v1/payouts/run", token=finance, json={"tenant_id": m.tenant_id})
        assert run.status_code == 201, run.text
        assert [p["amount"]["amount"] for p in run.json()["payouts"]] == [18_600 - fees]
        books = accounts(api, finance, m.tenant_id)
        assert books[f"seller:receivable:{seller_id}"] == 0
        assert books[f"seller:payable:{seller_id}"] == 0

        # Leaving credits what Pro had left, now to what the platform owes the seller.
        left = api.request("DELETE", f"/v1/sellers/{seller_id}/plan", token=seller)
        assert left.status_code == 200, left.text
        back = left.json()["credited"]["amount"]
        assert 0 < back <= pro_charged
        assert left.json()["plan_id"] is None
        assert self.balance(api, seller, seller_id)["available"] == back
        assert api.get(f"/v1/sellers/{seller_id}", token=seller).json()["plan"] is None
        plans = {
            p["name"]: p["subscribers"] for p in api.get("/v1/plans", token=seller).json()["items"]
        }
        assert plans == {"Basic": 0, "Pro": 0}
        # Without a plan, the tenant's rate again.
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        assert order["seller_orders"][0]["commission"]["amount"] == 1_000

    def test_each_month_is_charged_once_by_the_scheduler(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Monthly", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        finance = self.platform_user(api, root, "finance_admin")
        plan = self.plan(api, m, "Monthly", 2_500)
        charged = self.choose(api, seller, seller_id, plan).json()["charged"]["amount"]
        container.catch_up()
        _, end = month_bounds(datetime.now(UTC))
        in_two_months = month_bounds(end)[1] + timedelta(hours=1)
        # Nothing is due this month; two month starts later, two whole fees, once each.
        container.scheduler.run_once(end - timedelta(seconds=1))
        container.scheduler.run_once(in_two_months)
        container.catch_up()
        container.scheduler.run_once(in_two_months)
        api.position = container.log.head()
        assert accounts(api, finance, m.tenant_id)["platform:plan_fees"] == charged + 5_000
        renewed = [
            (line["status"], line["plan"]["period"], line["net"]["amount"])
            for line in self.earnings(api, seller, seller_id)
        ]
        first, second = f"{end.year:04d}-{end.month:02d}", in_two_months.strftime("%Y-%m")
        assert renewed[1:] == [("renewed", first, -2_500), ("renewed", second, -2_500)]

    def test_the_product_limit_holds_for_listings_and_for_choosing_a_plan(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root, "Limited", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        one = self.plan(api, m, "One", 0, product_limit=1)
        two = self.plan(api, m, "Two", 0, product_limit=2)
        self.product(api, seller)
        self.product(api, seller)
        assert_problem(self.choose(api, seller, seller_id, one), 409)
        assert self.choose(api, seller, seller_id, two).status_code == 200
        body = {
            "title": "Kettle",
            "description": "",
            "category": "kitchen",
            "sku": "K-1",
            "price": price(1_000),
        }
        assert_problem(api.post("/v1/products", token=seller, json=body), 409)
        api.request("DELETE", f"/v1/sellers/{seller_id}/plan", token=seller)
        assert api.post("/v1/products", token=seller, json=body).status_code == 201

    def test_who_may_define_and_choose_plans_and_bad_input(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Guarded", moderation="auto")
        elsewhere = self.marketplace(api, root, "Elsewhere", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        other_seller, other_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        plan = self.plan(api, m, "Basic", 1_000)
        foreign = self.plan(api, elsewhere, "Basic", 1_000)
        good = {
            "name": "Gold",
            "monthly_fee": price(1),
            "product_limit": None,
            "commission_discount_bps": 0,
        }
        head = container.log.head()
        for token in (buyer, seller):
            assert_problem(api.post("/v1/plans", token=token, json=good), 403)
        for bad in (
            {**good, "monthly_fee": price(1, "EUR")},
            {**good, "monthly_fee": price(-1)},
            {**good, "commission_discount_bps": 10_001},
            {**good, "product_limit": -1},
            {**good, "name": ""},
            {**good, "extra": 1},
            {key: value for key, value in good.items() if key != "name"},
        ):
            assert_problem(api.post("/v1/plans", token=m.admin_token, json=bad), 422)
        assert_problem(
            api.post("/v1/plans", token=m.admin_token, json={**good, "name": "BASIC"}), 409
        )
        path = f"/v1/sellers/{seller_id}/plan"
        assert_problem(self.choose(api, seller, seller_id, foreign), 404)
        assert_problem(self.choose(api, seller, seller_id, str(uuid4())), 404)
        assert_problem(self.choose(api, other_seller, seller_id, plan), 404)
        assert_problem(api.request("PUT", path, token=m.admin_token, json={"plan_id": plan}), 403)
        assert_problem(api.request("PUT", path, token=seller, json={"plan_id": "x"}), 422)
        assert_problem(api.request("DELETE", path, token=seller), 409)
        assert_problem(api.get(f"/v1/plans/{foreign}", token=seller), 404)
        assert container.log.head() == head
        # A repeated POST with its key defines one plan.
        first = api.post("/v1/plans", token=m.admin_token, json=good, key="gold")
        replay = api.post("/v1/plans", token=m.admin_token, json=good, key="gold")
        assert first.status_code == replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        names = [p["name"] for p in api.get("/v1/plans", token=other_seller).json()["items"]]
        assert names == ["Basic", "Gold"]
        assert self.choose(api, other_seller, other_id, plan).status_code == 200
        # Suspended, a seller cannot take on a plan, but it can leave the one it has.
        api.post(f"/v1/sellers/{other_id}/suspend", token=m.admin_token)
        assert_problem(self.choose(api, other_seller, other_id, first.json()["id"]), 403)
        left = api.request("DELETE", f"/v1/sellers/{other_id}/plan", token=other_seller)
        assert left.status_code == 200, left.text
