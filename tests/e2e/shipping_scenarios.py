"""Shipping over HTTP, as a seller app and a storefront call it (API.md v1.2 "Shipping"): a
seller's rates by country with free-over thresholds, a cart's shipping options per seller,
checkout that needs a rate for each seller that has any, and shipping that goes through escrow
to the seller, free of commission unless the tenant takes it, and back with a refund."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import ADDRESS, Shop, price

FRANCE = {**ADDRESS, "country": "FR", "city": "Paris", "postal_code": "75001"}


class ShippingScenarios(Shop):
    def rate(self, api: Api, token: str, seller_id: str, **body: Any) -> str:
        return api.created(
            api.post(f"/v1/sellers/{seller_id}/shipping-rates", token=token, json=body)
        )

    def rates(self, api: Api, seller: str, seller_id: str) -> tuple[str, str]:
        standard = self.rate(
            api,
            seller,
            seller_id,
            name="Standard",
            countries=["DE", "FR"],
            price=price(500),
            free_over=price(5000),
            min_days=2,
            max_days=4,
        )
        express = self.rate(
            api,
            seller,
            seller_id,
            name="Express",
            countries=["DE"],
            price=price(1500),
            min_days=1,
            max_days=1,
        )
        return standard, express

    def place(self, api: Api, buyer: str, cart: str, address: Any, shipping: Any) -> Any:
        body: dict[str, Any] = {"cart_id": cart, "shipping_address": address}
        if shipping is not None:
            body["shipping"] = shipping
        return api.post("/v1/checkout", token=buyer, key=f"co-{uuid4()}", json=body)

    def test_shipping_is_chosen_per_seller_and_escrowed_for_it_without_commission(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto", hold_days=0)  # 10% commission
        finance = self.platform_user(api, root, "finance_admin")
        seller_a, a_id = self.approved_seller(api, m)
        seller_b, b_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        standard, express = self.rates(api, seller_a, a_id)
        listed = api.get(f"/v1/sellers/{a_id}/shipping-rates", token=buyer).json()["items"]
        assert [(r["name"], r["countries"], r["price"], r["free_over"]) for r in listed] == [
            ("Standard", ["DE", "FR"], price(500), price(5000)),
            ("Express", ["DE"], price(1500), None),
        ]
        pen = self.stocked(api, seller_a, 50, 2000)
        cup = self.stocked(api, seller_b, 50, 1000)
        cart = self.cart(api, buyer, {pen: 1, cup: 1})

        options = api.get(
            f"/v1/carts/{cart}/shipping-options", token=buyer, params={"country": "DE"}
        ).json()["groups"]
        by_seller = {g["seller_id"]: g for g in options}
        assert by_seller[b_id] == {"seller_id": b_id, "rate_required": False, "options": []}
        assert [
            (o["rate_id"], o["price"], o["min_days"], o["max_days"])
            for o in by_seller[a_id]["options"]
        ] == [(standard, price(500), 2, 4), (express, price(1500), 1, 1)]
        abroad = api.get(
            f"/v1/carts/{cart}/shipping-options", token=buyer, params={"country": "US"}
        ).json()["groups"]
        assert {g["seller_id"]: g["options"] for g in abroad}[a_id] == []

        # A seller with rates needs one that ships to the address; one without needs none.
        for address, shipping in (
            (ADDRESS, None),
            (ADDRESS, {b_id: standard}),
            (FRANCE, {a_id: express}),
            (ADDRESS, {a_id: standard, b_id: standard}),
        ):
            refused = assert_problem(self.place(api, buyer, cart, address, shipping), 422)
            assert a_id in refused["detail"] or b_id in refused["detail"]
        order = self.place(api, buyer, cart, ADDRESS, {a_id: express})
        assert order.status_code == 201, order.text
        placed = order.json()
        assert placed["total"] == price(4500)  # 2000 + 1000 + 1500 of shipping
        parts = {so["seller_id"]: so for so in placed["seller_orders"]}
        assert parts[a_id]["shipping"] == price(1500)
        assert parts[a_id]["commission"] == price(200)  # 10% of the items only
        assert parts[a_id]["seller_net"] == price(3300)
        assert parts[b_id]["shipping"] == price(0)
        assert placed["payment"]["amount"] == price(4500)

        self.pay(api, container, placed["order_id"])
        seen = api.get(f"/v1/orders/{placed['order_id']}", token=buyer).json()
        assert seen["total"] == price(4500) and seen["shipping"] == price(1500)
        so_a = parts[a_id]["id"]
        mine = api.get(f"/v1/seller-orders/{so_a}", token=seller_a).json()
        assert mine["shipping"] == price(1500)
        assert mine["shipping_rate"] == {
            "rate_id": express,
            "name": "Express",
            "min_days": 1,
            "max_days": 1,
        }
        api.post(
            f"/v1/seller-orders/{so_a}/ship",
            token=seller_a,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        api.post(f"/v1/seller-orders/{so_a}/deliver", token=seller_a)
        assert self.balance(api, seller_a, a_id)["available"] == 3300  # items + shipping - fee
        books = accounts(api, finance, m.tenant_id)
        # A's commission is earned (on its items alone); B's is still pending in escrow.
        assert books["platform:commission"] == 200
        assert books[f"escrow:{b_id}"] == 1000
        balanced(api, finance, m.tenant_id)

        # A refund of the whole seller order gives the shipping back too.
        refund = api.created(
            api.post("/v1/refunds", token=buyer, json={"seller_order_id": so_a, "reason": "broken"})
        )
        api.post(f"/v1/refunds/{refund}/approve", token=seller_a)
        after = api.get(f"/v1/seller-orders/{so_a}", token=seller_a).json()
        assert after["refunded"] == price(3500) and after["status"] == "refunded"
        assert self.balance(api, seller_a, a_id)["available"] == 0
        balanced(api, finance, m.tenant_id)

    def test_a_rate_is_free_over_its_threshold_and_commission_on_shipping_is_the_tenants_choice(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")  # 10% commission
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        standard, _ = self.rates(api, seller, seller_id)
        pen = self.stocked(api, seller, 50, 2500)
        big = self.cart(api, buyer, {pen: 2})  # 5000: free from there
        options = api.get(
            f"/v1/carts/{big}/shipping-options", token=buyer, params={"country": "FR"}
        ).json()["groups"]
        assert [o["price"] for o in options[0]["options"]] == [price(0)]
        free = self.place(api, buyer, big, FRANCE, {seller_id: standard}).json()
        assert free["total"] == price(5000)
        assert free["seller_orders"][0]["shipping"] == price(0)

        taken = api.request(
            "PUT",
            f"/v1/tenants/{m.tenant_id}/shipping-commission",
            token=m.admin_token,
            json={"commission_on_shipping": True},
        )
        assert taken.status_code == 200, taken.text
        tenant = api.get(f"/v1/tenants/{m.tenant_id}", token=m.admin_token).json()
        assert tenant["commission_on_shipping"] is True
        small = self.cart(api, buyer, {pen: 1})
        charged = self.place(api, buyer, small, ADDRESS, {seller_id: standard}).json()
        part = charged["seller_orders"][0]
        assert charged["total"] == price(3000)
        assert part["commission"] == price(300)  # 10% of 2500 and of 500
        assert part["seller_net"] == price(2700)
        assert_problem(
            api.request(
                "PUT",
                f"/v1/tenants/{m.tenant_id}/shipping-commission",
                token=seller,
                json={"commission_on_shipping": False},
            ),
            403,
        )

    def test_rates_are_their_sellers_own_and_bad_rates_store_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        other, other_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        standard, express = self.rates(api, seller, seller_id)
        good = {"name": "N", "countries": ["DE"], "price": price(1), "min_days": 0, "max_days": 0}
        assert_problem(
            api.post(f"/v1/sellers/{seller_id}/shipping-rates", token=other, json=good), 404
        )
        assert_problem(
            api.post(f"/v1/sellers/{seller_id}/shipping-rates", token=buyer, json=good), 403
        )
        assert_problem(
            api.request("DELETE", f"/v1/sellers/{other_id}/shipping-rates/{standard}", token=other),
            404,
        )
        elsewhere = self.marketplace(api, root, name="Elsewhere")
        stranger = self.user(api, elsewhere, "buyer")
        assert_problem(api.get(f"/v1/sellers/{seller_id}/shipping-rates", token=stranger), 404)
        cart = self.cart(api, buyer, {self.stocked(api, seller, 5, 100): 1})
        assert_problem(
            api.get(f"/v1/carts/{cart}/shipping-options", token=stranger, params={"country": "DE"}),
            404,
        )
        assert_problem(
            api.get(
                f"/v1/carts/{cart}/shipping-options", token=buyer, params={"country": "Germany"}
            ),
            422,
        )

        head = container.log.head()
        for bad in (
            {**good, "countries": []},
            {**good, "countries": ["XX"]},
            {**good, "countries": ["de"]},
            {**good, "min_days": 3, "max_days": 1},
            {**good, "price": price(100, "EUR")},
            {**good, "price": {"amount": -1, "currency": "USD"}},
            {**good, "free_over": price(0)},
            {**good, "name": ""},
            {**good, "min_days": 1.5},
        ):
            assert_problem(
                api.post(f"/v1/sellers/{seller_id}/shipping-rates", token=seller, json=bad), 422
            )
        assert container.log.head() == head

        gone = api.request(
            "DELETE", f"/v1/sellers/{seller_id}/shipping-rates/{express}", token=seller
        )
        assert gone.status_code == 204, gone.text
        assert_problem(
            api.request(
                "DELETE", f"/v1/sellers/{seller_id}/shipping-rates/{express}", token=seller
            ),
            404,
        )
        names = [
            r["name"]
            for r in api.get(f"/v1/sellers/{seller_id}/shipping-rates", token=buyer).json()["items"]
        ]
        assert names == ["Standard"]
        refused = assert_problem(self.place(api, buyer, cart, ADDRESS, {seller_id: express}), 422)
        assert seller_id in refused["detail"]
