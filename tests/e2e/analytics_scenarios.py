"""Analytics (issue 18, point 9) over HTTP: a seller's dashboard and its marketplace's, in JSON
and CSV, agreeing with the sales report and with what the scenario bought, refunded and left in
carts. Each backend set runs these scenarios; bench/analytics.py times them at 100,000 orders."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop
from tests.e2e.world import Marketplace


def amounts(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v["amount"] if isinstance(v, dict) and "amount" in v else v for k, v in figures.items()
    }


class AnalyticsScenarios(Shop):
    def sold(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        """A marketplace (10% commission, no release delay) where seller A sells 2 teapots
        (10,000 each) and 1 mug (2,000) to one buyer and 1 teapot to another, refunds 3,000 of
        the first order after delivery; seller B sells 1 lamp (5,000); and a third cart with A's
        mug is left unpaid, a fourth never checked out."""
        m = self.marketplace(api, root, "Stats", moderation="auto", hold_days=0)
        a, a_id = self.approved_seller(api, m)
        b, b_id = self.approved_seller(api, m)
        teapot = self.stocked(api, a, 50, 10_000, title="Teapot")
        mug = self.stocked(api, a, 50, 2_000, title="Mug")
        lamp = self.stocked(api, b, 50, 5_000, title="Lamp")
        ada, bob = self.user(api, m, "buyer"), self.user(api, m, "buyer")

        first = self.checkout(api, ada, self.cart(api, ada, {teapot: 2, mug: 1, lamp: 1})).json()
        self.pay(api, container, first["order_id"])
        second = self.checkout(api, bob, self.cart(api, bob, {teapot: 1})).json()
        self.pay(api, container, second["order_id"])
        self.checkout(api, bob, self.cart(api, bob, {mug: 1}))  # placed, never paid
        self.cart(api, ada, {mug: 2})  # never checked out
        so = next(s["id"] for s in first["seller_orders"] if s["seller_id"] == a_id)
        api.post(
            f"/v1/seller-orders/{so}/ship", token=a, json={"carrier": "UPS", "tracking_number": "1"}
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=a)
        refund = api.post(
            "/v1/refunds",
            token=ada,
            json={
                "seller_order_id": so,
                "amount": {"amount": 3_000, "currency": "USD"},
                "reason": "chipped",
            },
        ).json()
        assert api.post(f"/v1/refunds/{refund['id']}/approve", token=a).status_code == 200
        return {
            "m": m,
            "a": a,
            "a_id": a_id,
            "b": b,
            "b_id": b_id,
            "products": {"teapot": teapot, "mug": mug, "lamp": lamp},
        }

    def dashboard(self, api: Api, token: str, path: str, **params: Any) -> dict[str, Any]:
        response = api.get(path, token=token, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def test_a_sellers_dashboard_counts_what_it_sold_refunded_and_left_in_carts(
        self, api: Api, root: str, container: Container
    ) -> None:
        world = self.sold(api, root, container)
        a, a_id, products = world["a"], world["a_id"], world["products"]
        today = datetime.now(UTC).date()
        body = self.dashboard(
            api,
            a,
            f"/v1/sellers/{a_id}/analytics",
            **{"from": str(today - timedelta(days=2)), "to": str(today)},
        )
        totals = amounts(body["totals"])
        conversion = totals.pop("conversion")
        assert totals == {
            "gmv": 32_000,
            "orders": 2,
            "units": 4,
            "average_order_value": 16_000,
            "refunds": 3_000,
            "commission": 3_200 - 300,
            "net": 32_000 - 3_000 - 2_900,
        }
        # Three carts held A's products (one never checked out); three seller orders were placed.
        assert conversion == {"carts": 4, "orders": 3, "rate_bps": 7_500}
        assert [point["start"] for point in body["series"]] == [
            str(today - timedelta(days=n)) for n in (2, 1, 0)
        ]
        assert [amounts(p)["gmv"] for p in body["series"]] == [0, 0, 32_000]
        assert [(p["title"], p["units"], p["gmv"]["amount"]) for p in body["top_products"]] == [
            ("Teapot", 3, 30_000),
            ("Mug", 1, 2_000),
        ]
        # The sales report says the same of this seller.
        report = api.get(
            "/v1/reports/sales",
            token=world["m"].admin_token,
            params={"from": str(today), "to": str(today), "group_by": "seller"},
        ).json()["rows"]
        row = next(r for r in report if r["seller"] == a_id)
        assert {k: row[k]["amount"] for k in ("gmv", "commission", "refunds", "net")} == {
            k: totals[k] for k in ("gmv", "commission", "refunds", "net")
        }
        # Weeks and months hold the same sums.
        for interval in ("week", "month"):
            body = self.dashboard(api, a, f"/v1/sellers/{a_id}/analytics", interval=interval)
            assert sum(p["gmv"]["amount"] for p in body["series"]) == 32_000
            starts = [date.fromisoformat(p["start"]) for p in body["series"]]
            assert all(s.weekday() == 0 if interval == "week" else s.day == 1 for s in starts)
        assert products["lamp"] not in [p["product_id"] for p in body["top_products"]]

    def test_the_marketplace_dashboard_and_its_csv(
        self, api: Api, root: str, container: Container
    ) -> None:
        world = self.sold(api, root, container)
        m: Marketplace = world["m"]
        body = self.dashboard(api, m.admin_token, "/v1/analytics/marketplace", interval="month")
        totals = amounts(body["totals"])
        assert totals == {
            "gmv": 37_000,
            "commission": 3_700 - 300,
            "refunds": 3_000,
            "take_rate_bps": 919,  # 3,400 / 37,000 = 9.189%
            "orders": 2,
            "active_buyers": 2,
            "new_sellers": 2,
        }
        assert [(s["seller_id"], s["gmv"]["amount"]) for s in body["top_sellers"]] == [
            (world["a_id"], 32_000),
            (world["b_id"], 5_000),
        ]
        assert [p["title"] for p in body["top_products"]] == ["Teapot", "Lamp", "Mug"]
        # This whole month, read from the monthly facts: the same figures.
        today = datetime.now(UTC).date()
        first = today.replace(day=1)
        last = date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)
        month = self.dashboard(
            api, m.admin_token, "/v1/analytics/marketplace", **{"from": str(first), "to": str(last)}
        )
        assert month["totals"] == body["totals"]
        assert (month["top_sellers"], month["top_products"]) == (
            body["top_sellers"],
            body["top_products"],
        )
        finance = self.platform_user(api, root, "finance_admin")
        as_finance = self.dashboard(
            api, finance, "/v1/analytics/marketplace", interval="month", tenant_id=m.tenant_id
        )
        assert as_finance["totals"] == body["totals"]

        response = api.get(
            "/v1/analytics/marketplace", token=m.admin_token, params={"format": "csv"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["start", "currency", "gmv", "commission", "refunds", "orders"]
        assert len(rows) == 1 + 30 + 1  # the last 30 days, then the totals
        assert rows[-1][:4] == ["total", "USD", "37000", "3400"]
        assert rows[-2][2] == "37000"  # today

        seller_csv = api.get(
            f"/v1/sellers/{world['a_id']}/analytics", token=world["a"], params={"format": "csv"}
        )
        rows = list(csv.reader(io.StringIO(seller_csv.text)))
        assert rows[0][:4] == ["start", "currency", "gmv", "orders"]
        assert rows[-1][:4] == ["total", "USD", "32000", "2"]

    def test_who_may_see_which_dashboard_and_bad_ranges(
        self, api: Api, root: str, container: Container
    ) -> None:
        world = self.sold(api, root, container)
        m, a, a_id, b = world["m"], world["a"], world["a_id"], world["b"]
        elsewhere = self.marketplace(api, root, "Elsewhere", moderation="auto")
        stranger, stranger_id = self.approved_seller(api, elsewhere)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        path = f"/v1/sellers/{a_id}/analytics"
        for token in (b, stranger, elsewhere.admin_token):
            assert_problem(api.get(path, token=token), 404)
        assert_problem(api.get(f"/v1/sellers/{uuid4()}/analytics", token=m.admin_token), 404)
        assert_problem(api.get(path, token=buyer), 403)
        assert self.dashboard(api, m.admin_token, path)["totals"]["gmv"]["amount"] == 32_000
        assert self.dashboard(api, finance, path)["totals"]["gmv"]["amount"] == 32_000

        market = "/v1/analytics/marketplace"
        for token in (buyer, a):
            assert_problem(api.get(market, token=token), 403)
        assert_problem(api.get(market, token=finance), 422)
        other = {"tenant_id": m.tenant_id}
        assert_problem(api.get(market, token=elsewhere.admin_token, params=other), 404)
        assert_problem(api.get(market, token=finance, params={"tenant_id": str(uuid4())}), 404)
        stranger_view = self.dashboard(api, elsewhere.admin_token, market)
        assert stranger_view["totals"]["gmv"]["amount"] == 0
        assert stranger_view["top_sellers"] == []
        assert (
            self.dashboard(api, stranger, f"/v1/sellers/{stranger_id}/analytics")["top_products"]
            == []
        )

        for params in (
            {"from": "2026-02-01", "to": "2026-01-01"},
            {"from": "2020-01-01", "to": "2026-01-01"},
            {"interval": "year"},
            {"format": "xml"},
            {"from": "yesterday"},
        ):
            assert_problem(api.get(path, token=a, params=params), 422)
            assert_problem(api.get(market, token=m.admin_token, params=params), 422)
