"""Stock alerts (issue 18, point 8) over HTTP: a seller sets a threshold; available stock
falling below it lists one alert per fall. Each backend set runs these scenarios (the seller's
notification, which travels through Kafka, is tried in tests/integration/test_kafka.py)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop


class AlertScenarios(Shop):
    def alerts(self, api: Api, token: str, seller_id: str) -> list[dict[str, Any]]:
        response = api.get(f"/v1/sellers/{seller_id}/alerts", token=token)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def test_one_alert_per_fall_below_the_threshold(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Alerts", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 6, 1_000)
        alert = {"warehouse": "main", "threshold": 4}
        set_ = api.request("PUT", f"/v1/products/{product}/stock-alert", token=seller, json=alert)
        assert set_.status_code == 200, set_.text
        assert self.alerts(api, seller, seller_id) == []

        # 6 -> 3 (below 4: one alert) -> 1 (still below: none) -> restocked -> 2 (a new fall).
        for quantity in (3, 2):
            order = self.checkout(api, buyer, self.cart(api, buyer, {product: quantity})).json()
            self.pay(api, container, order["order_id"])
        raised = [
            (a["product_id"], a["warehouse"], a["threshold"], a["available"])
            for a in self.alerts(api, seller, seller_id)
        ]
        assert raised == [(product, "main", 4, 3)]
        stock = {"warehouse": "main", "on_hand": 10}
        api.post(f"/v1/products/{product}/stock", token=seller, json=stock)  # available 5
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 3})).json()
        assert [a["available"] for a in self.alerts(api, seller, seller_id)] == [3, 2]
        # A hold that lapses brings stock back up; removing the alert stops it.
        cancel = api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer)
        assert cancel.status_code == 200, cancel.text
        off = {"warehouse": "main", "threshold": 0}
        api.request("PUT", f"/v1/products/{product}/stock-alert", token=seller, json=off)
        self.checkout(api, buyer, self.cart(api, buyer, {product: 4}))
        assert len(self.alerts(api, seller, seller_id)) == 2
        # The marketplace's admins see them too.
        assert len(self.alerts(api, m.admin_token, seller_id)) == 2

    def test_a_threshold_above_the_stock_alerts_at_once(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Eager", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        product = self.stocked(api, seller, 2, 1_000)
        alert = {"warehouse": "main", "threshold": 5}
        api.request("PUT", f"/v1/products/{product}/stock-alert", token=seller, json=alert)
        api.request("PUT", f"/v1/products/{product}/stock-alert", token=seller, json=alert)
        assert [a["available"] for a in self.alerts(api, seller, seller_id)] == [2]

    def test_only_the_owner_sets_and_reads_alerts(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Owned", moderation="auto")
        elsewhere = self.marketplace(api, root, "Other", moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        rival, rival_id = self.approved_seller(api, m)
        stranger, _ = self.approved_seller(api, elsewhere)
        buyer = self.user(api, m, "buyer")
        product = self.stocked(api, seller, 2, 1_000)
        head = container.log.head()
        path = f"/v1/products/{product}/stock-alert"
        alert = {"warehouse": "main", "threshold": 1}
        for token in (rival, stranger):
            assert_problem(api.request("PUT", path, token=token, json=alert), 404)
        assert_problem(api.request("PUT", path, token=buyer, json=alert), 403)
        for bad in (
            {"warehouse": "main", "threshold": -1},
            {"warehouse": "no spaces", "threshold": 1},
            {"warehouse": "main", "threshold": "1"},
            {"warehouse": "main"},
        ):
            assert_problem(api.request("PUT", path, token=seller, json=bad), 422)
        unknown = f"/v1/products/{uuid4()}/stock-alert"
        assert_problem(api.request("PUT", unknown, token=seller, json=alert), 404)
        assert container.log.head() == head
        for token, status in ((rival, 404), (stranger, 404), (buyer, 403)):
            assert_problem(api.get(f"/v1/sellers/{seller_id}/alerts", token=token), status)
        assert self.alerts(api, rival, rival_id) == []
