"""A guest storefront from first visit to paid order, as a storefront that has read API.md
(v1.2 "Guests and publishable keys") drives it: with only its publishable key it opens a cart
(keeping the cart token), fills it, asks for shipping options, checks out with an email (keeping
the order token), the payment arrives, and the order reads with its token alone. When an account
later signs up with that email and verifies it, the guest's orders join it. A cart or order token
opens exactly its own cart or order, in its own marketplace."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import ADDRESS, Shop, intent_event, price
from tests.e2e.world import PASSWORD, Marketplace
from tests.mailbox import Inbox

KEY, CART, ORDER = "X-Velora-Publishable-Key", "X-Velora-Cart-Token", "X-Velora-Order-Token"


class GuestCheckoutScenarios(Shop):
    def key(self, api: Api, m: Marketplace) -> str:
        made = api.post(
            f"/v1/tenants/{m.tenant_id}/publishable-keys", token=m.admin_token, json={"name": "W"}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["key"])

    def guest_cart(self, api: Api, key: str, lines: dict[str, int]) -> tuple[str, str]:
        opened = api.post("/v1/carts", headers={KEY: key})
        assert opened.status_code == 201, opened.text
        cart, token = opened.json()["id"], opened.json()["cart_token"]
        for variant, quantity in lines.items():
            put = api.request(
                "PUT",
                f"/v1/carts/{cart}/items/{variant}",
                headers={KEY: key, CART: token},
                json={"quantity": quantity},
            )
            assert put.status_code == 200, put.text
        return cart, token

    def test_a_guest_goes_from_first_visit_to_a_paid_order_that_later_joins_its_account(
        self, api: Api, root: str, container: Container, inbox: Inbox
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        rate = api.created(
            api.post(
                f"/v1/sellers/{seller_id}/shipping-rates",
                token=seller,
                json={
                    "name": "Standard",
                    "countries": ["DE"],
                    "price": price(400),
                    "min_days": 1,
                    "max_days": 2,
                },
            )
        )
        mug = self.stocked(api, seller, 5, 1200, title="Blue mug")
        key = self.key(api, m)
        visitor = {KEY: key}

        # Browsing: the catalog, with only the key.
        hits = api.get("/v1/search/products", headers=visitor, params={"q": "mug"}).json()
        assert [h["id"] for h in hits["items"]] == [mug]
        assert api.get(f"/v1/products/{mug}", headers=visitor).json()["available"] == 5
        rates = api.get(f"/v1/sellers/{seller_id}/shipping-rates", headers=visitor).json()
        assert [r["id"] for r in rates["items"]] == [rate]

        # A cart of its own, opened by its token alone.
        cart, cart_token = self.guest_cart(api, key, {mug: 2})
        held = {**visitor, CART: cart_token}
        seen = api.get(f"/v1/carts/{cart}", headers=held).json()
        assert seen["totals"] == [price(2400)]
        assert_problem(api.get(f"/v1/carts/{cart}", headers=visitor), 404)  # no token
        assert_problem(
            api.get(f"/v1/carts/{cart}", headers={**visitor, CART: "ct_" + "x" * 43}), 404
        )
        groups = api.get(
            f"/v1/carts/{cart}/shipping-options", headers=held, params={"country": "DE"}
        ).json()["groups"]
        assert [(o["rate_id"], o["price"]) for o in groups[0]["options"]] == [(rate, price(400))]

        # Checkout: with an email, and the order token comes back.
        body: dict[str, Any] = {
            "cart_id": cart,
            "shipping_address": ADDRESS,
            "shipping": {seller_id: rate},
        }
        assert_problem(
            api.post("/v1/checkout", headers=held, key=f"g-{uuid4()}", json=body), 422
        )  # no email
        assert_problem(
            api.post(
                "/v1/checkout",
                headers=held,
                key=f"g-{uuid4()}",
                json={**body, "email": "not an email"},
            ),
            422,
        )
        key_for_checkout = f"g-{uuid4()}"
        placed = api.post(
            "/v1/checkout",
            headers=held,
            key=key_for_checkout,
            json={**body, "email": "Ada.Guest@Example.org"},
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["total"] == price(2800) and order["order_token"].startswith("ot_")
        again = api.post(
            "/v1/checkout",
            headers=held,
            key=key_for_checkout,
            json={**body, "email": "Ada.Guest@Example.org"},
        )
        assert again.json() == order  # a retry is the same order and the same token
        order_id = order["order_id"]
        response = self.post_event(
            api,
            container,
            intent_event("payment_intent.succeeded", order["payment"]["intent_id"], 2800),
        )
        assert response.status_code == 200, response.text

        tracked = {**visitor, ORDER: order["order_token"]}
        read = api.get(f"/v1/orders/{order_id}", headers=tracked)
        assert read.status_code == 200, read.text
        assert read.json()["status"] == "paid" and read.json()["total"] == price(2800)
        assert_problem(api.get(f"/v1/orders/{order_id}", headers=visitor), 404)
        assert_problem(api.get("/v1/orders", headers=tracked), 401)  # it lists nothing
        assert api.get(f"/v1/products/{mug}", headers=visitor).json()["available"] == 3

        # The account that later verifies this email gets the guest's order.
        signed_up = api.http.post(
            "/v1/auth/signup",
            json={"tenant_id": m.tenant_id, "email": "ada.guest@example.org", "password": PASSWORD},
        )
        assert signed_up.status_code == 201, signed_up.text
        buyer = api.sign_in("ada.guest@example.org", PASSWORD, m.tenant_id)
        assert api.get("/v1/orders", token=buyer).json()["items"] == []  # not verified yet
        # The token the sign-up mailed, read out of the mail as its owner would.
        token = inbox.wait("ada.guest@example.org", 1, "Confirm your email")[-1].token()
        verified = api.http.post("/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 204, verified.text
        api.position = max(api.position, container.log.head())
        mine = api.get("/v1/orders", token=buyer).json()["items"]
        assert [o["id"] for o in mine] == [order_id]
        assert api.get(f"/v1/orders/{order_id}", token=buyer).json()["total"] == price(2800)
        # A guest's order placed with the verified email later is the account's at once.
        cart_2, cart_token_2 = self.guest_cart(api, key, {mug: 1})
        later = api.post(
            "/v1/checkout",
            headers={**visitor, CART: cart_token_2},
            key=f"g-{uuid4()}",
            json={**body, "cart_id": cart_2, "email": "ada.guest@example.org"},
        )
        assert later.status_code == 201, later.text
        mine = api.get("/v1/orders", token=buyer).json()["items"]
        assert [o["id"] for o in mine] == [order_id, later.json()["order_id"]]
        # And may act on it as its buyer: ask for its money back.
        part = order["seller_orders"][0]["id"]
        asked = api.post(
            "/v1/refunds", token=buyer, json={"seller_order_id": part, "reason": "changed mind"}
        )
        assert asked.status_code == 201, asked.text
        stranger = self.user(api, m, "buyer")
        assert_problem(
            api.post("/v1/refunds", token=stranger, json={"seller_order_id": part, "reason": "x"}),
            404,
        )

    def test_a_cart_or_order_token_opens_only_its_own_in_its_own_marketplace(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        other = self.marketplace(api, root, name="Other", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        mug = self.stocked(api, seller, 5, 1200)
        key, other_key = self.key(api, m), self.key(api, other)
        mine, my_token = self.guest_cart(api, key, {mug: 1})
        theirs, their_token = self.guest_cart(api, key, {mug: 1})
        # Another cart's token, a buyer's cart, another marketplace's key: 404, as unknown.
        assert_problem(api.get(f"/v1/carts/{mine}", headers={KEY: key, CART: their_token}), 404)
        buyer = self.user(api, m, "buyer")
        buyers_cart = self.cart(api, buyer, {mug: 1})
        assert_problem(api.get(f"/v1/carts/{buyers_cart}", headers={KEY: key, CART: my_token}), 404)
        assert_problem(api.get(f"/v1/carts/{mine}", headers={KEY: other_key, CART: my_token}), 404)
        assert_problem(api.get(f"/v1/carts/{mine}", token=buyer), 404)  # a buyer's token
        placed = api.post(
            "/v1/checkout",
            headers={KEY: key, CART: my_token},
            key=f"g-{uuid4()}",
            json={"cart_id": mine, "shipping_address": ADDRESS, "email": "a@b.example"},
        ).json()
        second = api.post(
            "/v1/checkout",
            headers={KEY: key, CART: their_token},
            key=f"g-{uuid4()}",
            json={"cart_id": theirs, "shipping_address": ADDRESS, "email": "c@d.example"},
        ).json()
        assert_problem(
            api.get(
                f"/v1/orders/{placed['order_id']}",
                headers={KEY: key, ORDER: second["order_token"]},
            ),
            404,
        )
        assert_problem(
            api.get(
                f"/v1/orders/{placed['order_id']}",
                headers={KEY: other_key, ORDER: placed["order_token"]},
            ),
            404,
        )
        # A signed-in buyer's checkout names no email; a guest cannot check out a buyer's cart.
        assert_problem(
            api.post(
                "/v1/checkout",
                token=buyer,
                key=f"b-{uuid4()}",
                json={"cart_id": buyers_cart, "shipping_address": ADDRESS, "email": "x@y.z"},
            ),
            422,
        )
        assert_problem(
            api.post(
                "/v1/checkout",
                headers={KEY: key, CART: my_token},
                key=f"g-{uuid4()}",
                json={"cart_id": buyers_cart, "shipping_address": ADDRESS, "email": "a@b.c"},
            ),
            404,
        )
