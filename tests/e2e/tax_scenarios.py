"""Tax over HTTP, as a marketplace's admin, a storefront and its finance team call it (API.md
v1.2 "Tax"): the tenant's rates by country, region and category, the most specific one per
line, tax on lines, seller orders and orders, posted to `tax_payable` and never to a seller;
refunds, returns and cancellations give back the tax of what they return; the tax report
ties to the ledger to the cent."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.money_scenarios import accounts, balanced
from tests.e2e.shop import ADDRESS, Shop, intent_event, price
from tests.e2e.world import Marketplace

CALIFORNIA = {**ADDRESS, "country": "US", "region": "California", "city": "Fresno"}
NEW_YORK = {**ADDRESS, "country": "US", "region": "NY", "city": "Albany"}

RATES = [
    {"country": "DE", "rate_bps": 1900, "name": "MwSt"},
    {"country": "DE", "category": "Books", "rate_bps": 700, "name": "MwSt reduced"},
    {"country": "US", "region": "CA", "rate_bps": 725, "name": "Sales tax"},
    {"country": "US", "region": "US-CA", "category": "books", "rate_bps": 0, "name": "Exempt"},
]


class TaxScenarios(Shop):
    def set_tax(self, api: Api, m: Marketplace, rates: list[Any], included: bool = False) -> Any:
        return api.request(
            "PUT",
            f"/v1/tenants/{m.tenant_id}/tax",
            token=m.admin_token,
            json={"prices_include_tax": included, "rates": rates},
        )

    def place(self, api: Api, buyer: str, lines: dict[str, int], address: Any) -> Any:
        cart = self.cart(api, buyer, lines)
        body = {"cart_id": cart, "shipping_address": address}
        placed = api.post("/v1/checkout", token=buyer, key=f"co-{uuid4()}", json=body)
        assert placed.status_code == 201, placed.text
        return placed.json()

    def paid(self, api: Api, container: Container, order: Any) -> None:
        """The provider says the buyer paid the order's total (its webhook, as Stripe sends it)."""
        payment = order["payment"]
        event = intent_event(
            "payment_intent.succeeded", payment["intent_id"], payment["amount"]["amount"]
        )
        assert self.post_event(api, container, event).status_code == 200

    def report(self, api: Api, token: str, **params: Any) -> list[dict[str, Any]]:
        params = {"from": "2026-01-01", "to": "2035-12-31", **params}
        answer = api.get("/v1/reports/tax", token=token, params=params)
        assert answer.status_code == 200, answer.text
        return list(answer.json()["rows"])

    def test_the_most_specific_rate_taxes_each_line_for_the_marketplace_alone(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto", hold_days=0)  # 10% commission
        finance = self.platform_user(api, root, "finance_admin")
        assert self.set_tax(api, m, RATES).status_code == 200
        table = api.get(f"/v1/tenants/{m.tenant_id}/tax", token=finance).json()
        assert table["prices_include_tax"] is False
        assert [
            (r["country"], r["region"], r["category"], r["rate_bps"]) for r in table["rates"]
        ] == [
            ("DE", None, None, 1900),
            ("DE", None, "Books", 700),
            ("US", "US-CA", None, 725),
            ("US", "US-CA", "books", 0),
        ]
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        novel = self.stocked(api, seller, 20, 1999, category="Books")
        lamp = self.stocked(api, seller, 20, 2000, category="Lighting")

        # Germany: books at the reduced rate, everything else at the standard one.
        order = self.place(api, buyer, {novel: 3, lamp: 1}, ADDRESS)
        # 3 x 1999 = 5997 at 7% = 419.79 -> 420; 2000 at 19% = 380.
        assert order["tax"] == price(800)
        assert order["total"] == price(5997 + 2000 + 800)
        (part,) = order["seller_orders"]
        assert part["subtotal"] == price(7997) and part["tax"] == price(800)
        assert part["commission"] == price(800)  # 10% of 5997 (600) and of 2000: never of tax
        assert part["seller_net"] == price(7197)
        assert order["payment"]["amount"] == order["total"]
        self.paid(api, container, order)
        seen = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert seen["tax"] == price(800) and seen["total"] == price(8797)
        lines = {line["product_id"]: line for line in seen["seller_orders"][0]["lines"]}
        assert (lines[novel]["tax"], lines[novel]["tax_rate_bps"]) == (price(420), 700)
        assert (lines[lamp]["tax"], lines[lamp]["tax_rate_bps"]) == (price(380), 1900)
        books = accounts(api, finance, m.tenant_id)
        assert books["tax_payable"] == 800
        assert books[f"escrow:{seller_id}"] == 7997  # the seller's money holds no tax
        balanced(api, finance, m.tenant_id)

        # California by its name: the region's rate, and its books exempt; New York: none.
        west = self.place(api, buyer, {novel: 1, lamp: 1}, CALIFORNIA)
        assert west["tax"] == price(145)  # 2000 at 7.25%; the book at the exempt 0
        east = self.place(api, buyer, {lamp: 1}, NEW_YORK)
        assert east["tax"] == price(0) and east["total"] == price(2000)

        # Delivered, the seller's balance is its net, without a cent of tax.
        so = part["id"]
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        assert self.balance(api, seller, seller_id)["available"] == 7197

        # The report ties to the ledger: what was collected, by place and rate.
        rows = self.report(api, finance, tenant_id=m.tenant_id)
        assert [(r["country"], r["rate_bps"], r["collected"]["amount"]) for r in rows] == [
            ("DE", 700, 420),
            ("DE", 1900, 380),
        ]
        assert (
            sum(r["net"]["amount"] for r in rows)
            == accounts(api, finance, m.tenant_id)["tax_payable"]
        )

    def test_refunds_returns_and_cancellations_give_back_the_tax_of_what_they_return(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto", hold_days=30)
        finance = self.platform_user(api, root, "finance_admin")
        assert self.set_tax(api, m, RATES).status_code == 200
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        novel = self.stocked(api, seller, 20, 1999, category="Books")
        lamp = self.stocked(api, seller, 20, 2000, category="Lighting")

        order = self.place(api, buyer, {novel: 3, lamp: 1}, ADDRESS)  # tax 420 + 380
        self.paid(api, container, order)
        so = order["seller_orders"][0]["id"]

        # A refund by amount gives back tax in proportion: 1000 of 8797 -> 91 (90.94) of 800.
        refund = api.created(
            api.post(
                "/v1/refunds",
                token=buyer,
                json={"seller_order_id": so, "amount": price(1000), "reason": "scratched"},
            )
        )
        assert api.post(f"/v1/refunds/{refund}/approve", token=seller).status_code == 200
        books = accounts(api, finance, m.tenant_id)
        assert books["tax_payable"] == 800 - 91
        assert books[f"escrow:{seller_id}"] == 7997 - 909
        balanced(api, finance, m.tenant_id)

        # A returned book gives back its share of its line, tax included: (5997 + 420) / 3.
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "DHL", "tracking_number": "1"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        asked = api.post(
            "/v1/returns",
            token=buyer,
            json={
                "seller_order_id": so,
                "lines": [{"product_id": novel, "quantity": 1}],
                "reason": "duplicate",
            },
        )
        rid = api.created(asked)
        api.post(f"/v1/returns/{rid}/authorize", token=seller, json={"instructions": "post it"})
        received = api.post(
            f"/v1/returns/{rid}/receive",
            token=seller,
            json={"lines": [{"product_id": novel, "quantity": 1, "restock_warehouse": "main"}]},
        )
        assert received.status_code == 200, received.text
        assert api.get(f"/v1/returns/{rid}", token=buyer).json()["refunded"] == price(2139)
        # Its tax: 140 of the books' 420, at the books' rate exactly.
        assert accounts(api, finance, m.tenant_id)["tax_payable"] == 800 - 91 - 140
        balanced(api, finance, m.tenant_id)

        # A cancelled order gives back all of its tax.
        other = self.place(api, buyer, {lamp: 2}, ADDRESS)  # 4000 at 19%: 760
        self.paid(api, container, other)
        assert accounts(api, finance, m.tenant_id)["tax_payable"] == 800 - 91 - 140 + 760
        cancelled = api.post(f"/v1/orders/{other['order_id']}/cancel", token=buyer)
        assert cancelled.status_code == 200, cancelled.text
        assert accounts(api, finance, m.tenant_id)["tax_payable"] == 800 - 91 - 140
        balanced(api, finance, m.tenant_id)

        rows = {r["rate_bps"]: r for r in self.report(api, finance, tenant_id=m.tenant_id)}
        assert rows[700]["collected"] == price(420)
        assert rows[1900]["collected"] == price(380 + 760)
        refunded = rows[700]["refunded"]["amount"] + rows[1900]["refunded"]["amount"]
        assert refunded == 91 + 140 + 760
        assert rows[1900]["refunded"]["amount"] >= 760  # the cancellation's, at its rate
        assert sum(r["net"]["amount"] for r in rows.values()) == 800 - 91 - 140
        csv = api.get(
            "/v1/reports/tax",
            token=finance,
            params={
                "from": "2026-01-01",
                "to": "2035-12-31",
                "format": "csv",
                "tenant_id": m.tenant_id,
            },
        )
        assert csv.headers["content-type"].startswith("text/csv")
        header, *body = csv.text.strip().splitlines()
        assert header == "currency,country,region,rate_bps,name,collected,refunded,net"
        assert len(body) == 2

    def test_prices_that_include_tax_keep_the_price_and_pay_the_seller_without_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto", hold_days=0)
        finance = self.platform_user(api, root, "finance_admin")
        assert self.set_tax(api, m, RATES[:1], included=True).status_code == 200
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        mug = self.stocked(api, seller, 20, 1190)
        order = self.place(api, buyer, {mug: 1}, ADDRESS)
        # 1190 includes 19%: 190 of it is tax, 1000 the seller's goods.
        assert order["total"] == price(1190) and order["tax"] == price(190)
        (part,) = order["seller_orders"]
        assert part["subtotal"] == price(1000)
        assert part["commission"] == price(100) and part["seller_net"] == price(900)
        self.paid(api, container, order)
        assert accounts(api, finance, m.tenant_id)["tax_payable"] == 190
        balanced(api, finance, m.tenant_id)

    def test_bad_rates_are_refused_and_change_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        assert self.set_tax(api, m, RATES).status_code == 200
        before = api.get(f"/v1/tenants/{m.tenant_id}/tax", token=m.admin_token).json()
        for rates in (
            [{"country": "XX", "rate_bps": 100, "name": "Nowhere"}],  # no such country
            [{"country": "DE", "region": "ZZ", "rate_bps": 100, "name": "No such Land"}],
            [{"country": "DE", "rate_bps": 10_001, "name": "Too much"}],
            [{"country": "DE", "rate_bps": 1.5, "name": "Fractional"}],
            [{"country": "DE", "rate_bps": 100, "name": ""}],
            [RATES[0], {**RATES[0], "name": "Twice"}],  # two rates for one place
            [{"country": "DE", "rate_bps": 100, "name": "x", "surprise": True}],
        ):
            assert_problem(self.set_tax(api, m, rates), 422)
        assert_problem(
            api.request(
                "PUT",
                f"/v1/tenants/{m.tenant_id}/tax",
                token=m.admin_token,
                json={"prices_include_tax": "yes", "rates": []},
            ),
            422,
        )
        assert api.get(f"/v1/tenants/{m.tenant_id}/tax", token=m.admin_token).json() == before
        assert_problem(
            api.get(
                "/v1/reports/tax",
                token=self.platform_user(api, root, "finance_admin"),
                params={"from": "2026-02-01", "to": "2026-01-01", "tenant_id": m.tenant_id},
            ),
            422,
        )

    def test_tax_belongs_to_its_tenant_and_its_roles(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        other = self.marketplace(api, root, name="Other", moderation="auto")
        assert self.set_tax(api, m, RATES[:1]).status_code == 200
        path = f"/v1/tenants/{m.tenant_id}/tax"
        body = {"prices_include_tax": False, "rates": []}
        # Another tenant's admin: as for an unknown tenant, reading and setting.
        assert_problem(api.get(path, token=other.admin_token), 404)
        assert_problem(api.get(f"/v1/tenants/{uuid4()}/tax", token=other.admin_token), 404)
        assert_problem(api.request("PUT", path, token=other.admin_token, json=body), 404)
        # Within the tenant, buyers and sellers neither read nor set it, nor read the report.
        days = {"from": "2026-01-01", "to": "2026-01-02"}
        for role in ("buyer", "seller"):
            token = self.user(api, m, role)
            assert_problem(api.get(path, token=token), 403)
            assert_problem(api.request("PUT", path, token=token, json=body), 403)
            assert_problem(api.get("/v1/reports/tax", token=token, params=days), 403)
        assert_problem(api.get("/v1/reports/tax", token=m.admin_token, params=days), 403)
        # Finance reads every tenant's rates and reports, and sets none.
        finance = self.platform_user(api, root, "finance_admin")
        assert api.get(path, token=finance).json()["rates"][0]["rate_bps"] == 1900
        assert_problem(api.request("PUT", path, token=finance, json=body), 403)
        assert api.get(path, token=m.admin_token).json()["rates"][0]["rate_bps"] == 1900

        # The report shows one tenant's tax: the one named, never another's.
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        order = self.place(api, buyer, {self.stocked(api, seller, 5, 1000): 1}, ADDRESS)
        self.paid(api, container, order)
        mine = self.report(api, finance, tenant_id=m.tenant_id)
        assert [r["collected"] for r in mine] == [price(190)]
        assert self.report(api, finance, tenant_id=other.tenant_id) == []
        assert self.report(api, finance, tenant_id=str(uuid4())) == []
        assert self.report(api, finance) == []  # the platform's own tenant collects none
