"""Returns (RMA) over HTTP, as a storefront and a seller app use them: asked for within the
tenant's return window, authorized or rejected, shipped back, received; what arrived is
refunded through the refund path (out of escrow, or charged back after release) and what can
be sold again is restocked."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import Shop


class ReturnScenarios(Shop):
    def delivered_order(
        self, api: Api, container: Container, seller: str, buyer: str, lines: dict[str, int]
    ) -> dict[str, Any]:
        order = self.checkout(api, buyer, self.cart(api, buyer, lines)).json()
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "UPS", "tracking_number": "1Z"},
        )
        assert api.post(f"/v1/seller-orders/{so}/deliver", token=seller).status_code == 200
        return dict(order)

    def ask(self, api: Api, buyer: str, so: str, lines: dict[str, int], **kw: Any) -> Any:
        body = {
            "seller_order_id": so,
            "lines": [{"product_id": p, "quantity": q} for p, q in lines.items()],
            "reason": "does not fit",
            **kw,
        }
        return api.post("/v1/returns", token=buyer, json=body)

    def test_a_return_from_request_to_refund_and_restock(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")  # a 7-day release delay
        seller, seller_id = self.approved_seller(api, m)
        buyer, other_buyer = self.user(api, m, "buyer"), self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        shirt = self.stocked(api, seller, 10, 10_000)
        socks = self.stocked(api, seller, 10, 5_000)
        order = self.delivered_order(api, container, seller, buyer, {shirt: 3, socks: 1})
        so = order["seller_orders"][0]["id"]
        assert self.available(api, buyer, shirt) == 7

        asked = self.ask(api, buyer, so, {shirt: 2, socks: 1})
        assert asked.status_code == 201, asked.text
        assert asked.json()["status"] == "requested"
        rid = asked.json()["id"]
        # The units it holds cannot be asked for again meanwhile; one more shirt can.
        assert_problem(self.ask(api, buyer, so, {shirt: 2}), 409)
        assert_problem(self.ask(api, other_buyer, so, {shirt: 1}), 404)
        other = self.marketplace(api, root, name="Other")
        assert_problem(api.get(f"/v1/returns/{rid}", token=other.admin_token), 404)
        assert_problem(api.get(f"/v1/returns/{rid}", token=other_buyer), 404)
        for token in (buyer, seller, m.admin_token):
            seen = api.get(f"/v1/returns/{rid}", token=token)
            assert seen.status_code == 200, seen.text
            assert seen.json()["status"] == "requested"

        assert_problem(
            api.post(
                f"/v1/returns/{rid}/ship",
                token=buyer,
                json={"carrier": "DHL", "tracking_number": "R1"},
            ),
            409,
        )  # not authorized yet
        authorized = api.post(
            f"/v1/returns/{rid}/authorize",
            token=seller,
            json={"instructions": "Send to 1 Dock St with the slip inside"},
        )
        assert authorized.status_code == 200, authorized.text
        assert_problem(
            api.post(f"/v1/returns/{rid}/reject", token=seller, json={"reason": "late"}), 409
        )
        shipped = api.post(
            f"/v1/returns/{rid}/ship", token=buyer, json={"carrier": "DHL", "tracking_number": "R1"}
        )
        assert shipped.json()["status"] == "in_transit"

        received = api.post(
            f"/v1/returns/{rid}/receive",
            token=seller,
            json={
                "lines": [
                    {"product_id": shirt, "quantity": 2, "restock_warehouse": "main"},
                    {"product_id": socks, "quantity": 0},  # never arrived
                ]
            },
        )
        assert received.status_code == 200, received.text
        view = api.get(f"/v1/returns/{rid}", token=buyer).json()
        assert view["status"] == "received"
        assert view["refunded"] == {"amount": 20_000, "currency": "USD"}
        assert view["instructions"] == "Send to 1 Dock St with the slip inside"
        assert (view["carrier"], view["tracking_number"]) == ("DHL", "R1")
        # Products without variants are their own one variant, under their own ids.
        assert view["received_lines"] == [
            {"product_id": shirt, "variant_id": shirt, "quantity": 2, "restock_warehouse": "main"},
            {"product_id": socks, "variant_id": socks, "quantity": 0, "restock_warehouse": None},
        ]
        refund = api.get(f"/v1/refunds/{view['refund_id']}", token=buyer).json()
        assert (refund["status"], refund["from_escrow"]) == ("approved", True)
        assert refund["amount"] == {"amount": 20_000, "currency": "USD"}
        assert self.available(api, buyer, shirt) == 9, self.available(
            api, buyer, shirt
        )  # back on sale
        assert self.available(api, buyer, socks) == 9
        part = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert part["refunded"] == {"amount": 20_000, "currency": "USD"}
        assert part["escrow_status"] == "partially_refunded"
        # Held in escrow still: 35,000 less 20,000, toward the seller net of commission.
        assert self.balance(api, seller, seller_id)["in_escrow"] == 13_500
        assert accounts(api, finance, m.tenant_id)["processor:clearing"] == 15_000
        balanced(api, finance, m.tenant_id)
        # The third shirt and the socks can still be returned; the two received cannot.
        assert_problem(self.ask(api, buyer, so, {shirt: 2}), 409)
        assert self.ask(api, buyer, so, {shirt: 1, socks: 1}).status_code == 201

        mine = api.get("/v1/returns", token=buyer, params={"status": "received"}).json()
        assert [r["id"] for r in mine["items"]] == [rid]
        theirs = api.get("/v1/returns", token=seller).json()["items"]
        assert [r["status"] for r in theirs] == ["received", "requested"]
        assert api.get("/v1/returns", token=other_buyer).json()["items"] == []
        assert_problem(api.get("/v1/returns", token=buyer, params={"status": "lost"}), 422)

    def test_a_rejected_return_frees_its_units_and_one_after_release_is_charged_back(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto", hold_days=0)  # released on delivery
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        lamp = self.stocked(api, seller, 5, 8_000)
        order = self.delivered_order(api, container, seller, buyer, {lamp: 1})
        so = order["seller_orders"][0]["id"]
        assert self.balance(api, seller, seller_id)["available"] == 7_200

        first = api.created(self.ask(api, buyer, so, {lamp: 1}))
        assert_problem(api.post(f"/v1/returns/{first}/reject", token=seller, json={}), 422)
        rejected = api.post(
            f"/v1/returns/{first}/reject", token=seller, json={"reason": "used, not returnable"}
        )
        assert rejected.status_code == 200, rejected.text
        seen = api.get(f"/v1/returns/{first}", token=buyer).json()
        assert (seen["status"], seen["rejection_reason"]) == ("rejected", "used, not returnable")
        second = api.created(self.ask(api, buyer, so, {lamp: 1}))  # its unit is free again
        api.post(
            f"/v1/returns/{second}/authorize", token=m.admin_token, json={"instructions": "Post it"}
        )
        # Handed over at the counter, without tracking: authorized -> received.
        received = api.post(
            f"/v1/returns/{second}/receive",
            token=seller,
            json={"lines": [{"product_id": lamp, "quantity": 1}]},  # not sellable
        )
        assert received.status_code == 200, received.text
        assert self.available(api, buyer, lamp) == 4  # not restocked
        # Released already: charged back to the seller (8,000 less the 800 commission).
        assert self.balance(api, seller, seller_id)["available"] == 0
        assert accounts(api, finance, m.tenant_id)[f"seller:receivable:{seller_id}"] == 7_200
        part = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert part["status"] == "refunded"
        balanced(api, finance, m.tenant_id)

    def test_what_a_return_may_not_be(self, api: Api, root: str, container: Container) -> None:
        m = self.marketplace(api, root, moderation="auto")
        strict = self.marketplace(
            api, root, name="Strict", moderation="auto", hold_days=0, return_window_days=0
        )
        assert (
            api.get(f"/v1/tenants/{strict.tenant_id}", token=root).json()["return_window_days"] == 0
        )
        assert api.get(f"/v1/tenants/{m.tenant_id}", token=root).json()["return_window_days"] == 30
        bad = api.post(
            "/v1/tenants",
            token=root,
            json={
                "name": "Bad",
                "currency": "USD",
                "commission_bps": 0,
                "escrow_hold_days": 0,
                "return_window_days": 366,
            },
        )
        assert_problem(bad, 422)
        strict_seller, _ = self.approved_seller(api, strict)
        strict_buyer = self.user(api, strict, "buyer")
        cup = self.stocked(api, strict_seller, 5, 1_000)
        late = self.delivered_order(api, container, strict_seller, strict_buyer, {cup: 1})
        outside = self.ask(api, strict_buyer, late["seller_orders"][0]["id"], {cup: 1})
        assert_problem(outside, 409)  # a window of 0 days has closed on delivery

        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        vase = self.stocked(api, seller, 5, 3_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {vase: 1})).json()
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        assert_problem(self.ask(api, buyer, so, {vase: 1}), 409)  # not delivered
        assert_problem(self.ask(api, seller, so, {vase: 1}), 403)  # sellers do not ask
        assert_problem(self.ask(api, buyer, so, {str(uuid4()): 1}), 409)  # not in the order
        for lines in ([], [{"product_id": vase, "quantity": 0}]):
            body = {"seller_order_id": so, "lines": lines, "reason": "x"}
            assert_problem(api.post("/v1/returns", token=buyer, json=body), 422)
        assert_problem(self.ask(api, buyer, so, {vase: 1}, reason=""), 422)
        assert_problem(self.ask(api, buyer, str(uuid4()), {vase: 1}), 404)
        assert_problem(api.get(f"/v1/returns/{uuid4()}", token=buyer), 404)
        assert_problem(api.get("/v1/returns", token=self.platform_user(api, root, "auditor")), 403)
