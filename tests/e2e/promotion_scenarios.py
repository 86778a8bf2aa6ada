"""Promotions over HTTP, as a marketplace's admin, a seller app and a storefront call them (API.md
v1.2 "Promotions"): codes and automatic promotions, percent, amount and free shipping, their
conditions and limits; who funds them and what the ledger does about it; refunds of discounted
lines refund what was paid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import ADDRESS, Shop, intent_event, price
from tests.e2e.world import Marketplace


class PromotionScenarios(Shop):
    def promote(self, api: Api, token: str, **body: Any) -> Any:
        return api.post("/v1/promotions", token=token, json=body)

    def made(self, api: Api, token: str, **body: Any) -> str:
        return api.created(self.promote(api, token, **body))

    def apply(self, api: Api, buyer: str, cart: str, code: str) -> Any:
        return api.post(f"/v1/carts/{cart}/promotions", token=buyer, json={"code": code})

    def place(self, api: Api, buyer: str, cart: str, **body: Any) -> Any:
        body = {"cart_id": cart, "shipping_address": ADDRESS, **body}
        return api.post("/v1/checkout", token=buyer, key=f"co-{uuid4()}", json=body)

    def paid(self, api: Api, container: Container, order: Any) -> None:
        payment = order["payment"]
        event = intent_event(
            "payment_intent.succeeded", payment["intent_id"], payment["amount"]["amount"]
        )
        assert self.post_event(api, container, event).status_code == 200

    def shop_of_two(self, api: Api, root: str) -> tuple[Marketplace, str, str, str, str]:
        m = self.marketplace(api, root, moderation="auto", hold_days=0)  # 10% commission
        seller_a, a_id = self.approved_seller(api, m)
        seller_b, b_id = self.approved_seller(api, m)
        return m, seller_a, a_id, seller_b, b_id

    def test_a_sellers_code_lowers_its_price_and_commission_is_taken_on_what_is_left(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, a_id, seller_b, b_id = self.shop_of_two(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        buyer = self.user(api, m, "buyer")
        mug = self.stocked(api, seller_a, 20, 2000)
        lamp = self.stocked(api, seller_b, 20, 3000)
        promotion = self.made(
            api, seller_a, code="spring10", kind="percent", value=10, funded_by="seller"
        )
        cart = self.cart(api, buyer, {mug: 2, lamp: 1})
        applied = self.apply(api, buyer, cart, "SPRING10")
        assert applied.status_code == 200, applied.text
        view = applied.json()
        assert view["codes"] == ["SPRING10"]
        assert view["discounts"] == [
            {"promotion_id": promotion, "code": "SPRING10", "amount": price(400)}
        ]
        seen = api.get(f"/v1/carts/{cart}", token=buyer).json()
        assert seen["discounts"] == view["discounts"]

        placed = self.place(api, buyer, cart)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["total"] == price(3600 + 3000)
        parts = {so["seller_id"]: so for so in order["seller_orders"]}
        assert parts[a_id]["subtotal"] == price(3600)
        assert parts[a_id]["commission"] == price(360) and parts[a_id]["seller_net"] == price(3240)
        assert parts[b_id]["subtotal"] == price(3000)  # another seller's lines: not its code's
        self.paid(api, container, order)
        so = parts[a_id]["id"]
        mine = api.get(f"/v1/seller-orders/{so}", token=seller_a).json()
        assert mine["discount"] == price(400) and mine["lines"][0]["discount"] == price(400)
        assert api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()["discount"] == price(
            400
        )
        books = accounts(api, finance, m.tenant_id)
        assert books[f"escrow:{a_id}"] == 3600 and "promotions" not in books

        # A refund of everything gives back what was paid: the discounted price.
        refund = api.created(
            api.post("/v1/refunds", token=buyer, json={"seller_order_id": so, "reason": "no"})
        )
        api.post(f"/v1/refunds/{refund}/approve", token=seller_a)
        after = api.get(f"/v1/seller-orders/{so}", token=seller_a).json()
        assert after["refunded"] == price(3600) and after["status"] == "refunded"
        balanced(api, finance, m.tenant_id)

        # Seller B sees none of A's promotions; A sees its own.
        assert api.get("/v1/promotions", token=seller_b).json()["items"] == []
        listed = api.get("/v1/promotions", token=seller_a).json()["items"]
        assert [(p["id"], p["code"], p["value"], p["status"]) for p in listed] == [
            (promotion, "SPRING10", 10, "active")
        ]

    def test_the_platform_pays_for_its_promotions_and_the_seller_is_paid_in_full(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, a_id, seller_b, b_id = self.shop_of_two(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        buyer = self.user(api, m, "buyer")
        mug = self.stocked(api, seller_a, 20, 2000)
        lamp = self.stocked(api, seller_b, 20, 3000)
        # Automatic: no code; 500 off carts of at least 4000, split over the lines by value.
        self.made(
            api,
            m.admin_token,
            kind="amount",
            value=price(500),
            funded_by="platform",
            min_subtotal=price(4000),
        )
        small = self.cart(api, buyer, {mug: 1})
        assert api.get(f"/v1/carts/{small}", token=buyer).json()["discounts"] == []
        cart = self.cart(api, buyer, {mug: 1, lamp: 1})
        assert [
            d["amount"] for d in api.get(f"/v1/carts/{cart}", token=buyer).json()["discounts"]
        ] == [price(500)]
        order = self.place(api, buyer, cart).json()
        assert order["total"] == price(4500)
        parts = {so["seller_id"]: so for so in order["seller_orders"]}
        # Each seller is paid, and charged commission, as at full price.
        assert parts[a_id]["subtotal"] == price(2000) and parts[a_id]["seller_net"] == price(1800)
        assert parts[b_id]["subtotal"] == price(3000) and parts[b_id]["seller_net"] == price(2700)
        self.paid(api, container, order)
        books = accounts(api, finance, m.tenant_id)
        assert books["promotions"] == 500  # 200 toward A's goods, 300 toward B's
        assert books[f"escrow:{a_id}"] == 2000 and books[f"escrow:{b_id}"] == 3000
        balanced(api, finance, m.tenant_id)

        # A refund of half of what the buyer paid for A (1800): half of the platform's 200 back.
        so = parts[a_id]["id"]
        refund = api.created(
            api.post(
                "/v1/refunds",
                token=buyer,
                json={"seller_order_id": so, "amount": price(900), "reason": "chipped"},
            )
        )
        api.post(f"/v1/refunds/{refund}/approve", token=seller_a)
        books = accounts(api, finance, m.tenant_id)
        assert books["promotions"] == 400 and books[f"escrow:{a_id}"] == 1000
        # The rest: the buyer gets back all it paid, never the platform's part.
        rest = api.created(
            api.post("/v1/refunds", token=buyer, json={"seller_order_id": so, "reason": "all"})
        )
        api.post(f"/v1/refunds/{rest}/approve", token=seller_a)
        after = api.get(f"/v1/seller-orders/{so}", token=seller_a).json()
        assert after["refunded"] == price(1800) and after["status"] == "refunded"
        books = accounts(api, finance, m.tenant_id)
        assert books["promotions"] == 300 and books[f"escrow:{a_id}"] == 0
        balanced(api, finance, m.tenant_id)

    def test_free_shipping_for_a_category_paid_by_the_platform(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, a_id, _, _ = self.shop_of_two(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        buyer = self.user(api, m, "buyer")
        rate = api.created(
            api.post(
                f"/v1/sellers/{a_id}/shipping-rates",
                token=seller_a,
                json={
                    "name": "Standard",
                    "countries": ["DE"],
                    "price": price(700),
                    "min_days": 1,
                    "max_days": 3,
                },
            )
        )
        lamp = self.stocked(api, seller_a, 20, 3000, category="Lighting")
        mug = self.stocked(api, seller_a, 20, 1000, category="Kitchen")
        self.made(
            api,
            m.admin_token,
            code="SHIPFREE",
            kind="free_shipping",
            funded_by="platform",
            category="lighting",
        )
        mugs = self.cart(api, buyer, {mug: 1})
        assert_problem(self.apply(api, buyer, mugs, "shipfree"), 409)  # nothing it fits
        cart = self.cart(api, buyer, {lamp: 1, mug: 1})
        assert self.apply(api, buyer, cart, "shipfree").status_code == 200
        order = self.place(api, buyer, cart, shipping={a_id: rate}).json()
        assert order["total"] == price(4000)  # the shipping is the platform's
        (part,) = order["seller_orders"]
        assert part["shipping"] == price(700)  # the seller is paid its shipping all the same
        self.paid(api, container, order)
        books = accounts(api, finance, m.tenant_id)
        assert books["promotions"] == 700 and books[f"escrow:{a_id}"] == 4700
        balanced(api, finance, m.tenant_id)

    def test_an_order_a_promotion_makes_free_is_paid_at_once(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, a_id, _, _ = self.shop_of_two(api, root)
        finance = self.platform_user(api, root, "finance_admin")
        buyer = self.user(api, m, "buyer")
        mug = self.stocked(api, seller_a, 5, 1000)
        self.made(api, m.admin_token, code="FREE", kind="percent", value=100, funded_by="platform")
        cart = self.cart(api, buyer, {mug: 1})
        assert self.apply(api, buyer, cart, "FREE").status_code == 200
        placed = self.place(api, buyer, cart)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["total"] == price(0) and order["status"] == "paid"
        assert order["payment"]["provider"] == "none"
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert seen["status"] == "paid"
        assert self.available(api, buyer, mug) == 4  # sold
        # The seller is paid in full, by the platform.
        books = accounts(api, finance, m.tenant_id)
        assert books["promotions"] == 1000 and books[f"escrow:{a_id}"] == 1000
        balanced(api, finance, m.tenant_id)

    def test_limits_dates_and_ends_hold(self, api: Api, root: str, container: Container) -> None:
        m, seller_a, _, _, _ = self.shop_of_two(api, root)
        mug = self.stocked(api, seller_a, 50, 1000)
        now = datetime.now(UTC)
        once = self.made(
            api,
            m.admin_token,
            code="ONCE",
            kind="percent",
            value=50,
            funded_by="platform",
            usage_limit=2,
            per_buyer_limit=1,
        )
        self.made(
            api,
            m.admin_token,
            code="LATER",
            kind="percent",
            value=5,
            funded_by="platform",
            starts_at=(now + timedelta(days=1)).isoformat(),
        )
        first, second, third = (self.user(api, m, "buyer") for _ in range(3))
        assert_problem(self.apply(api, first, self.cart(api, first, {mug: 1}), "NOPE"), 404)
        assert_problem(self.apply(api, first, self.cart(api, first, {mug: 1}), "LATER"), 409)

        cart = self.cart(api, first, {mug: 1})
        spare = self.cart(api, first, {mug: 1})
        for each in (cart, spare):  # no use counted yet: it applies to both
            assert self.apply(api, first, each, "ONCE").status_code == 200
        assert self.place(api, first, cart).json()["total"] == price(500)
        held = self.available(api, first, mug)
        assert_problem(self.place(api, first, spare), 409)  # this buyer had its one use
        assert self.available(api, first, mug) == held  # and the refused checkout held nothing
        again = self.cart(api, first, {mug: 1})
        assert_problem(self.apply(api, first, again, "ONCE"), 409)
        other = self.cart(api, second, {mug: 1})
        self.apply(api, second, other, "ONCE")
        second_order = self.place(api, second, other).json()
        assert_problem(self.apply(api, third, self.cart(api, third, {mug: 1}), "ONCE"), 409)
        # Cancelled, an order gives its use back.
        api.post(f"/v1/orders/{second_order['order_id']}/cancel", token=second)
        late = self.cart(api, third, {mug: 1})
        assert self.apply(api, third, late, "ONCE").status_code == 200
        # Ended, a promotion fits no cart, and a cart that had its code cannot check out.
        assert api.post(f"/v1/promotions/{once}/end", token=m.admin_token).status_code == 200
        assert_problem(self.place(api, third, late), 409)
        # An ended code is told as ended (409), not as one that never was (404).
        ended = assert_problem(self.apply(api, third, self.cart(api, third, {mug: 1}), "ONCE"), 409)
        assert "ended" in ended["detail"]
        removed = api.request("DELETE", f"/v1/carts/{late}/promotions/once", token=third)
        assert removed.status_code == 200 and removed.json()["codes"] == []
        assert_problem(api.request("DELETE", f"/v1/carts/{late}/promotions/ONCE", token=third), 404)
        assert self.place(api, third, late).json()["total"] == price(1000)

    def test_bad_promotions_are_refused_and_make_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, a_id, _, b_id = self.shop_of_two(api, root)
        self.made(api, m.admin_token, code="TAKEN", kind="percent", value=5, funded_by="platform")
        for body in (
            {"kind": "percent", "value": 0, "funded_by": "platform"},
            {"kind": "percent", "value": 101, "funded_by": "platform"},
            {"kind": "percent", "funded_by": "platform"},
            {"kind": "amount", "value": 5, "funded_by": "platform"},
            {"kind": "amount", "value": price(100, "EUR"), "funded_by": "platform"},
            {"kind": "free_shipping", "value": 3, "funded_by": "platform"},
            {"kind": "percent", "value": 5, "funded_by": "seller"},  # whose?
            {"kind": "gift", "value": 5, "funded_by": "platform"},
            {"kind": "percent", "value": 5, "funded_by": "platform", "code": "no spaces"},
            {
                "kind": "percent",
                "value": 5,
                "funded_by": "platform",
                "starts_at": "2027-01-02T00:00:00Z",
                "ends_at": "2027-01-01T00:00:00Z",
            },
            {"kind": "percent", "value": 5, "funded_by": "platform", "usage_limit": 0},
        ):
            assert_problem(self.promote(api, m.admin_token, **body), 422)
        taken = self.promote(
            api, m.admin_token, code="taken", kind="percent", value=9, funded_by="platform"
        )
        assert_problem(taken, 409)
        # A seller makes only its own, funded by itself.
        for body in (
            {"kind": "percent", "value": 5, "funded_by": "platform"},
            {"kind": "percent", "value": 5, "funded_by": "seller", "seller_id": b_id},
        ):
            assert_problem(self.promote(api, seller_a, **body), 422)
        assert len(api.get("/v1/promotions", token=m.admin_token).json()["items"]) == 1
        assert api.get("/v1/promotions", token=seller_a).json()["items"] == []
        assert a_id  # the seller exists, and has made nothing

    def test_promotions_belong_to_their_tenant_and_their_roles(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller_a, _, seller_b, _ = self.shop_of_two(api, root)
        other = self.marketplace(api, root, name="Other", moderation="auto")
        own = self.made(api, seller_a, code="MINE", kind="percent", value=10, funded_by="seller")
        house = self.made(
            api, m.admin_token, code="HOUSE", kind="percent", value=5, funded_by="platform"
        )
        buyer = self.user(api, m, "buyer")
        assert_problem(self.promote(api, buyer, kind="percent", value=5, funded_by="platform"), 403)
        assert_problem(api.get("/v1/promotions", token=buyer), 403)
        # Another tenant's admin: sees none of them and ends none (as unknown ids).
        assert api.get("/v1/promotions", token=other.admin_token).json()["items"] == []
        for promotion in (own, house, str(uuid4())):
            assert_problem(
                api.post(f"/v1/promotions/{promotion}/end", token=other.admin_token), 404
            )
        # Another seller of the tenant neither sees nor ends a seller's own; nor the house's.
        assert_problem(api.post(f"/v1/promotions/{own}/end", token=seller_b), 404)
        assert_problem(api.post(f"/v1/promotions/{house}/end", token=seller_a), 404)
        # A code of one tenant is unknown in another; a cart of another buyer is unknown.
        outsider = self.user(api, other, "buyer")
        other_seller, _ = self.approved_seller(api, other)
        theirs = self.cart(api, outsider, {self.stocked(api, other_seller, 5, 1000): 1})
        assert_problem(self.apply(api, outsider, theirs, "HOUSE"), 404)
        mine = self.cart(api, buyer, {self.stocked(api, seller_a, 5, 1000): 1})
        assert_problem(self.apply(api, outsider, mine, "HOUSE"), 404)
        assert_problem(
            api.request("DELETE", f"/v1/carts/{mine}/promotions/HOUSE", token=outsider), 404
        )
        assert self.apply(api, buyer, mine, "HOUSE").status_code == 200
        assert api.post(f"/v1/promotions/{own}/end", token=seller_a).status_code == 200
        assert api.post(f"/v1/promotions/{house}/end", token=m.admin_token).status_code == 200
