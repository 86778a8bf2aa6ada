"""Carts, checkout, payment outcomes, fulfilment, cancellation, expiry and reviews over HTTP.
Payment outcomes are recorded through the checkout application, as the payment webhook does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from api.bootstrap import Container
from api.idempotency import request_digest
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import ADDRESS, Shop, price


class OrderScenarios(Shop):
    # -- checkout -------------------------------------------------------------------------------

    def test_a_multi_vendor_checkout_splits_holds_and_snapshots_commission(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, seller_b, buyer, _ = self.shop(api, root)
        teapot = self.stocked(api, seller_a, 5, 2599, category="kitchen")
        cups = self.stocked(api, seller_a, 10, 333, category="kitchen")
        book = self.stocked(api, seller_b, 2, 1999, category="books")
        api.request(
            "PUT",
            f"/v1/tenants/{m.tenant_id}/commission/categories/books",
            token=m.admin_token,
            json={"commission_bps": 500},
        )
        api.request(
            "PUT",
            f"/v1/products/{cups}/commission",
            token=m.admin_token,
            json={"commission_bps": 1250},
        )
        cart_id = self.cart(api, buyer, {teapot: 2, cups: 3, book: 1})
        view = api.get(f"/v1/carts/{cart_id}", token=buyer).json()
        assert view["totals"] == [price(2 * 2599 + 3 * 333 + 1999)]

        response = self.checkout(api, buyer, cart_id)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "pending_payment"
        assert body["total"] == price(5198 + 999 + 1999)
        parts = {so["subtotal"]["amount"]: so for so in body["seller_orders"]}
        # teapots at the tenant's 10% (519.8 -> 520), cups at their own 12.5% (124.875 -> 125)
        assert parts[6197]["commission"] == price(520 + 125)
        assert parts[6197]["seller_net"] == price(6197 - 645)
        assert parts[1999]["commission"] == price(100)  # books at 5% (99.95 -> 100)
        for so in body["seller_orders"]:
            assert (
                so["commission"]["amount"] + so["seller_net"]["amount"] == so["subtotal"]["amount"]
            )
        assert body["payment"]["provider"] == "local"
        assert body["payment"]["intent_id"].startswith("pi_local_")
        assert body["payment"]["amount"] == body["total"]
        assert [self.available(api, buyer, p) for p in (teapot, cups, book)] == [3, 7, 1]

        order = api.get(f"/v1/orders/{body['order_id']}", token=buyer).json()
        assert order["status"] == "pending_payment"
        assert order["payment"]["intent_id"] == body["payment"]["intent_id"]
        assert {so["id"] for so in order["seller_orders"]} == {
            so["id"] for so in body["seller_orders"]
        }
        # The buyer reads its order without the marketplace's economics; the admin with them.
        economics = {"commission", "seller_net"}
        listed = api.get("/v1/orders", token=buyer).json()["items"]
        for seen in (order, *listed):
            for so in seen["seller_orders"]:
                assert economics.isdisjoint(so) and so["subtotal"] and so["lines"]
                assert all("commission_bps" not in line for line in so["lines"])
        staff = api.get(f"/v1/orders/{body['order_id']}", token=m.admin_token).json()
        by_id = {so["id"]: so for so in staff["seller_orders"]}
        assert by_id[parts[6197]["id"]]["commission"] == price(520 + 125)
        assert by_id[parts[1999]["id"]]["seller_net"] == price(1999 - 100)
        assert {line["commission_bps"] for line in by_id[parts[6197]["id"]]["lines"]} == {
            1000,
            1250,
        }
        assert api.get(f"/v1/carts/{cart_id}", token=buyer).json()["status"] == "checked_out"
        assert_problem(self.checkout(api, buyer, cart_id), 409)  # the cart is closed

        self.pay(api, container, body["order_id"])
        assert api.get(f"/v1/orders/{body['order_id']}", token=buyer).json()["status"] == "paid"
        assert [self.available(api, buyer, p) for p in (teapot, cups, book)] == [3, 7, 1]
        seller_view = api.get(
            "/v1/seller-orders", token=seller_b, params={"status": "paid"}
        ).json()["items"]
        assert [so["id"] for so in seller_view] == [parts[1999]["id"]]
        assert seller_view[0]["escrow_status"] == "held"

    def test_a_shortfall_holds_nothing_and_names_the_line(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller_a, _, buyer, _ = self.shop(api, root)
        plenty = self.stocked(api, seller_a, 10, 100)
        scarce = self.stocked(api, seller_a, 1, 100)
        cart_id = self.cart(api, buyer, {plenty: 2, scarce: 2})
        head = container.log.head()
        response = self.checkout(api, buyer, cart_id)
        assert_problem(response, 409)
        assert scarce in response.json()["detail"]
        assert container.log.head() == head
        assert [self.available(api, buyer, p) for p in (plenty, scarce)] == [10, 1]

    def test_a_suspended_sellers_products_cannot_be_bought(self, api: Api, root: str) -> None:
        m, seller_a, _, buyer, _ = self.shop(api, root)
        product = self.stocked(api, seller_a, 5, 100)
        cart_id = self.cart(api, buyer, {product: 1})
        seller_id = api.get("/v1/sellers", token=seller_a).json()["items"][0]["seller_id"]
        api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token)
        response = self.checkout(api, buyer, cart_id)
        assert_problem(response, 409)
        assert product in response.json()["detail"]
        api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token)
        assert self.checkout(api, buyer, cart_id).status_code == 201

    def test_a_cart_takes_only_this_marketplaces_products(self, api: Api, root: str) -> None:
        _, _, _, buyer, _ = self.shop(api, root)
        other = self.marketplace(api, root, "Elsewhere", moderation="auto")
        foreign_seller, _ = self.approved_seller(api, other)
        foreign_product = self.stocked(api, foreign_seller, 5, 100)
        cart_id = api.created(api.post("/v1/carts", token=buyer))
        for product in (foreign_product, str(uuid4())):
            assert_problem(
                api.request(
                    "PUT", f"/v1/carts/{cart_id}/items/{product}", token=buyer, json={"quantity": 1}
                ),
                404,
            )
        for quantity in (-1, 1000, 1.5):
            assert_problem(
                api.request(
                    "PUT",
                    f"/v1/carts/{cart_id}/items/{foreign_product}",
                    token=buyer,
                    json={"quantity": quantity},
                ),
                422,
            )
        assert_problem(self.checkout(api, buyer, cart_id), 422)  # an empty cart

    def test_one_currency_per_cart(self, api: Api, root: str) -> None:
        _, seller_a, _, buyer, _ = self.shop(api, root)
        dollars = self.stocked(api, seller_a, 5, 100)
        euros = self.stocked(api, seller_a, 5, 100, currency="EUR")
        assert_problem(
            self.checkout(api, buyer, self.cart(api, buyer, {dollars: 1, euros: 1})), 422
        )

    def test_checkout_is_idempotent(self, api: Api, root: str, container: Container) -> None:
        _, seller_a, _, buyer, _ = self.shop(api, root)
        product = self.stocked(api, seller_a, 5, 700)
        cart_id = self.cart(api, buyer, {product: 2})
        assert_problem(
            api.post(
                "/v1/checkout", token=buyer, json={"cart_id": cart_id, "shipping_address": ADDRESS}
            ),
            422,
        )  # the key is required

        first = self.checkout(api, buyer, cart_id, key="same-key")
        head = container.log.head()
        again = self.checkout(api, buyer, cart_id, key="same-key")
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["Idempotent-Replayed"] == "true"
        assert container.log.head() == head and self.available(api, buyer, product) == 3

        # The same request from another serializer (keys in another order, other whitespace)
        # is the same request: replayed, not refused.
        sent = json.loads(first.request.content)
        rewritten = json.dumps(dict(reversed(list(sent.items()))), indent=3).encode()
        assert rewritten != first.request.content
        retried = api.post("/v1/checkout", token=buyer, key="same-key", content=rewritten)
        assert (retried.status_code, retried.json()) == (201, first.json())
        assert retried.headers["Idempotent-Replayed"] == "true"

        other = api.post(
            "/v1/checkout",
            token=buyer,
            key="same-key",
            json={"cart_id": cart_id, "shipping_address": {**ADDRESS, "city": "Paris"}},
        )
        assert_problem(other, 422)

        second_cart = self.cart(api, buyer, {product: 1})
        raw = json.dumps({"cart_id": second_cart, "shipping_address": ADDRESS}).encode()
        digest = request_digest("POST", "/v1/checkout", b"", raw, b"application/json")
        user = container.tokens.verify(buyer).user_id
        assert container.idempotency.claim(f"user:{user}", "in-flight", digest).outcome == "new"
        assert_problem(api.post("/v1/checkout", token=buyer, content=raw, key="in-flight"), 409)
        assert container.log.head() == head + 2  # only the second cart's two events

    # -- after checkout -------------------------------------------------------------------------

    def test_fulfilment_then_a_review_per_delivered_order(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller_a, seller_b, buyer, other_buyer = self.shop(api, root)
        lamp = self.stocked(api, seller_a, 3, 4500)
        rug = self.stocked(api, seller_b, 3, 9000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {lamp: 1, rug: 1})).json()
        lamp_so = next(
            so["id"] for so in order["seller_orders"] if so["subtotal"]["amount"] == 4500
        )
        rug_so = next(so["id"] for so in order["seller_orders"] if so["subtotal"]["amount"] == 9000)
        review = {"order_id": order["order_id"], "rating": 5, "body": "lovely"}

        ship = {"carrier": "DHL", "tracking_number": "JD014600006281230"}
        assert_problem(
            api.post(f"/v1/seller-orders/{lamp_so}/ship", token=seller_a, json=ship), 409
        )  # not paid yet
        self.pay(api, container, order["order_id"])
        assert_problem(
            api.post(f"/v1/seller-orders/{lamp_so}/ship", token=seller_b, json=ship), 404
        )  # not this seller's
        assert (
            api.post(f"/v1/seller-orders/{lamp_so}/ship", token=seller_a, json=ship).json()[
                "status"
            ]
            == "shipped"
        )
        assert_problem(api.post(f"/v1/products/{lamp}/reviews", token=buyer, json=review), 409)
        assert_problem(api.post(f"/v1/orders/{order['order_id']}/cancel", token=buyer), 409)
        shipped = api.get(f"/v1/seller-orders/{lamp_so}", token=seller_a).json()
        assert (shipped["carrier"], shipped["tracking_number"]) == ("DHL", "JD014600006281230")

        assert (
            api.post(f"/v1/seller-orders/{lamp_so}/deliver", token=seller_a).json()["status"]
            == "delivered"
        )
        assert api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()["status"] == "paid"
        api.post(f"/v1/seller-orders/{rug_so}/ship", token=seller_b, json=ship)
        api.post(f"/v1/seller-orders/{rug_so}/deliver", token=seller_b)
        assert (
            api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()["status"] == "fulfilled"
        )

        assert api.post(f"/v1/products/{lamp}/reviews", token=buyer, json=review).status_code == 201
        assert_problem(api.post(f"/v1/products/{lamp}/reviews", token=buyer, json=review), 409)
        assert_problem(
            api.post(f"/v1/products/{lamp}/reviews", token=other_buyer, json=review), 404
        )  # not their order
        assert_problem(
            api.post(f"/v1/products/{lamp}/reviews", token=buyer, json={**review, "rating": 6}), 422
        )
        api.post(f"/v1/products/{rug}/reviews", token=buyer, json={**review, "rating": 2})
        rated = api.get(f"/v1/products/{lamp}", token=other_buyer).json()["rating"]
        assert rated == {"average": 5.0, "count": 1}
        listed = api.get(f"/v1/products/{rug}/reviews", token=other_buyer).json()["items"]
        assert [(r["rating"], r["body"]) for r in listed] == [(2, "lovely")]

    def test_cancelling_before_shipment_gives_the_stock_back(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, buyer, other_buyer = self.shop(api, root)
        product = self.stocked(api, seller_a, 4, 1000)
        unpaid = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        paid = self.checkout(api, buyer, self.cart(api, buyer, {product: 2})).json()
        self.pay(api, container, paid["order_id"])
        assert self.available(api, buyer, product) == 1

        assert_problem(api.post(f"/v1/orders/{unpaid['order_id']}/cancel", token=other_buyer), 404)
        assert (
            api.post(f"/v1/orders/{unpaid['order_id']}/cancel", token=buyer).json()["status"]
            == "cancelled"
        )
        assert (
            api.post(f"/v1/orders/{paid['order_id']}/cancel", token=m.admin_token).status_code
            == 200
        )
        assert self.available(api, buyer, product) == 4
        for order in (unpaid, paid):
            view = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
            assert view["status"] == "cancelled"
            assert {so["status"] for so in view["seller_orders"]} == {"cancelled"}
        assert_problem(api.post(f"/v1/orders/{paid['order_id']}/cancel", token=buyer), 409)
        listed = api.get("/v1/orders", token=buyer, params={"status": "cancelled"}).json()
        assert {o["id"] for o in listed["items"]} == {unpaid["order_id"], paid["order_id"]}

    def test_unpaid_orders_expire_and_failed_payments_release_their_holds(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller_a, _, buyer, _ = self.shop(api, root)
        product = self.stocked(api, seller_a, 3, 1000)
        late = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        failed = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        assert self.available(api, buyer, product) == 1

        self.pay(api, container, failed["order_id"], ok=False)
        assert self.available(api, buyer, product) == 2
        # Other tests may share this container: judge the scheduler by this test's orders alone.
        container.catch_up()
        container.scheduler.run_once(datetime.now(UTC))  # not yet due
        api.position = container.log.head()
        assert (
            api.get(f"/v1/orders/{late['order_id']}", token=buyer).json()["status"]
            == "pending_payment"
        )
        later = datetime.now(UTC) + timedelta(seconds=1801)
        container.scheduler.run_once(later)
        api.position = container.log.head()
        assert self.available(api, buyer, product) == 3
        for order in (late, failed):
            view = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
            assert view["status"] == "cancelled"
        container.catch_up()
        container.scheduler.run_once(later)  # nothing twice: the hold is released only once
        api.position = container.log.head()
        assert self.available(api, buyer, product) == 3

    def test_every_order_route_answers_404_to_another_tenant_and_403_to_the_wrong_role(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, buyer, _ = self.shop(api, root)
        other = self.marketplace(api, root, "Globex", moderation="auto")
        foreign_buyer = self.user(api, other, "buyer")
        foreign_seller, _ = self.approved_seller(api, other)
        product = self.stocked(api, seller_a, 5, 1000)
        cart_id = self.cart(api, buyer, {product: 1})
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        so = order["seller_orders"][0]["id"]
        self.pay(api, container, order["order_id"])
        ship = {"carrier": "UPS", "tracking_number": "1Z"}
        review = {"order_id": order["order_id"], "rating": 4}
        # (method, path, body, allowed caller, that role in another tenant, a wrong role here)
        routes = [
            ("GET", f"/v1/carts/{cart_id}", None, buyer, foreign_buyer, seller_a),
            (
                "PUT",
                f"/v1/carts/{cart_id}/items/{product}",
                {"quantity": 2},
                buyer,
                foreign_buyer,
                seller_a,
            ),
            ("GET", f"/v1/orders/{order['order_id']}", None, buyer, foreign_buyer, seller_a),
            (
                "POST",
                f"/v1/orders/{order['order_id']}/cancel",
                None,
                buyer,
                foreign_buyer,
                seller_a,
            ),
            ("GET", f"/v1/seller-orders/{so}", None, seller_a, foreign_seller, buyer),
            ("POST", f"/v1/seller-orders/{so}/ship", ship, seller_a, foreign_seller, buyer),
            ("POST", f"/v1/seller-orders/{so}/deliver", None, seller_a, foreign_seller, buyer),
            ("POST", f"/v1/products/{product}/reviews", review, buyer, foreign_buyer, seller_a),
            ("GET", f"/v1/products/{product}/reviews", None, buyer, foreign_buyer, None),
            (
                "PUT",
                f"/v1/tenants/{m.tenant_id}/commission/categories/books",
                {"commission_bps": 1},
                m.admin_token,
                other.admin_token,
                buyer,
            ),
        ]
        for method, path, body, _allowed, foreigner, wrong in routes:
            assert_problem(api.request(method, path, token=foreigner, json=body), 404)
            if wrong is not None:
                assert_problem(api.request(method, path, token=wrong, json=body), 403)
        assert_problem(self.checkout(api, foreign_buyer, cart_id), 404)
        assert_problem(self.checkout(api, seller_a, cart_id), 403)
        assert_problem(api.post("/v1/carts", token=seller_a), 403)
        assert api.get("/v1/orders", token=foreign_buyer).json()["items"] == []
        assert api.get("/v1/seller-orders", token=foreign_seller).json()["items"] == []
