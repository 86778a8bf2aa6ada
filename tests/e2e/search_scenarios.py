"""Search over HTTP: the products projector feeding the index, and the two search routes. Each
backend set runs these same scenarios."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price


def found(api: Api, token: str, **params: Any) -> list[str]:
    response = api.get("/v1/search/products", token=token, params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


class SearchScenarios(Shop):
    def test_buyers_find_only_active_products_of_approved_sellers(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)  # products need approval here
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        approved = self.product(api, seller, title="Walnut spoon")
        pending = self.product(api, seller, title="Walnut bowl")
        rejected = self.product(api, seller, title="Walnut board")
        api.post(f"/v1/products/{approved}/approve", token=m.admin_token)
        api.post(f"/v1/products/{rejected}/reject", token=m.admin_token, json={"reason": "no"})
        assert found(api, buyer, q="walnut") == ["Walnut spoon"]

        api.post(f"/v1/products/{pending}/approve", token=m.admin_token)
        assert sorted(found(api, buyer, q="walnut")) == ["Walnut bowl", "Walnut spoon"]

        api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token)
        assert found(api, buyer, q="walnut") == []
        api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token)
        assert sorted(found(api, buyer, q="walnut")) == ["Walnut bowl", "Walnut spoon"]

        # With moderation an edit is searchable once approved; the approved version meanwhile.
        api.request("PATCH", f"/v1/products/{approved}", token=seller, json={"title": "Oak spoon"})
        assert found(api, buyer, q="oak") == []
        assert sorted(found(api, buyer, q="walnut")) == ["Walnut bowl", "Walnut spoon"]
        api.post(f"/v1/products/{approved}/approve", token=m.admin_token)
        assert found(api, buyer, q="oak") == ["Oak spoon"]
        assert found(api, buyer, q="walnut") == ["Walnut bowl"]

    def test_stock_and_ratings_reach_the_index_as_they_happen(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, buyer, other_buyer = self.shop(api, root)
        lamp = self.stocked(api, seller, 1, 4500, title="Desk lamp")

        def hit() -> dict[str, Any]:
            items = api.get("/v1/search/products", token=other_buyer, params={"q": "lamp"})
            (only,) = items.json()["items"]
            return dict(only)

        assert (hit()["available"], hit()["rating"]) == (1, {"average": None, "count": 0})
        order = self.checkout(api, buyer, self.cart(api, buyer, {lamp: 1})).json()
        assert hit()["available"] == 0  # held for the order
        assert found(api, other_buyer, q="lamp", in_stock=True) == []
        self.pay(api, container, order["order_id"])
        (so,) = order["seller_orders"]
        ship = {"carrier": "DHL", "tracking_number": "JD014600006281230"}
        api.post(f"/v1/seller-orders/{so['id']}/ship", token=seller, json=ship)
        api.post(f"/v1/seller-orders/{so['id']}/deliver", token=seller)
        review = {"order_id": order["order_id"], "rating": 4, "body": "bright"}
        assert api.post(f"/v1/products/{lamp}/reviews", token=buyer, json=review).status_code == 201
        assert hit()["rating"] == {"average": 4.0, "count": 1}
        assert found(api, other_buyer, q="lamp", min_rating=4) == ["Desk lamp"]
        assert found(api, other_buyer, q="lamp", min_rating=4.5) == []
        api.post(
            f"/v1/products/{lamp}/stock", token=seller, json={"warehouse": "main", "on_hand": 5}
        )
        assert hit()["available"] == 4
        assert found(api, other_buyer, q="lamp", in_stock=True) == ["Desk lamp"]

    def test_filters_sorts_facets_and_cursors(self, api: Api, root: str) -> None:
        m, seller_a, seller_b, buyer, _ = self.shop(api, root)
        seller_b_id = api.get("/v1/sellers", token=m.admin_token).json()["items"][1]["seller_id"]
        for title, category, amount, seller in (
            ("Linen shirt", "clothing", 3500, seller_a),
            ("Wool shirt", "clothing", 8900, seller_a),
            ("Silk shirt", "clothing", 12900, seller_b),
            ("Shirt hanger", "home", 900, seller_b),
        ):
            self.stocked(api, seller, 2, amount, title=title, category=category)

        body = api.get(
            "/v1/search/products", token=buyer, params={"q": "shirt", "sort": "price_asc"}
        ).json()
        assert [i["title"] for i in body["items"]] == [
            "Shirt hanger",
            "Linen shirt",
            "Wool shirt",
            "Silk shirt",
        ]
        assert body["total"] == 4 and body["next_cursor"] is None
        assert body["items"][0]["price"] == price(900)
        assert body["facets"]["category"] == [
            {"value": "clothing", "count": 3},
            {"value": "home", "count": 1},
        ]
        assert sorted(b["count"] for b in body["facets"]["seller_id"]) == [2, 2]
        assert body["facets"]["price"] == [
            {"from": None, "to": price(1000), "count": 1},
            {"from": price(2500), "to": price(5000), "count": 1},
            {"from": price(5000), "to": price(10000), "count": 1},
            {"from": price(10000), "to": price(25000), "count": 1},
        ]

        assert found(api, buyer, q="shirt", sort="price_desc")[0] == "Silk shirt"
        assert found(api, buyer, sort="newest")[0] == "Shirt hanger"
        narrowed = found(api, buyer, q="shirt", category="clothing", max_price=9000)
        assert sorted(narrowed) == ["Linen shirt", "Wool shirt"]
        assert sorted(found(api, buyer, seller_id=seller_b_id)) == ["Shirt hanger", "Silk shirt"]
        assert found(api, buyer, q="shrit", min_price=10000) == ["Silk shirt"]  # a typo

        pages, cursor = [], None
        while True:
            params: dict[str, Any] = {"q": "shirt", "sort": "price_asc", "limit": 3}
            if cursor:
                params["cursor"] = cursor
            body = api.get("/v1/search/products", token=buyer, params=params).json()
            pages.append([i["title"] for i in body["items"]])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert pages == [["Shirt hanger", "Linen shirt", "Wool shirt"], ["Silk shirt"]]

    def test_suggestions_complete_titles_and_categories(self, api: Api, root: str) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        self.product(api, seller, title="Garden hose", category="gardening")
        self.product(api, seller, title="Garlic press", category="kitchen")
        self.product(api, seller, title="Teapot", category="kitchen")
        response = api.get("/v1/search/suggest", token=buyer, params={"q": "Gar"})
        assert response.status_code == 200
        suggestions = response.json()["suggestions"]
        assert suggestions[0] == "gardening"
        assert sorted(suggestions) == ["Garden hose", "Garlic press", "gardening"]
        limited = api.get("/v1/search/suggest", token=buyer, params={"q": "gar", "limit": 1})
        assert limited.json() == {"suggestions": ["gardening"]}

    def test_another_tenants_products_never_show(self, api: Api, root: str) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        acme_seller, acme_seller_id = self.approved_seller(api, acme)
        globex_seller, _ = self.approved_seller(api, globex)
        for m, seller, title in (
            (acme, acme_seller, "Acme anvil"),
            (globex, globex_seller, "Globex anvil"),
        ):
            product_id = self.product(api, seller, title=title)
            api.post(f"/v1/products/{product_id}/approve", token=m.admin_token)
        acme_buyer, globex_buyer = self.user(api, acme, "buyer"), self.user(api, globex, "buyer")
        assert found(api, acme_buyer, q="anvil") == ["Acme anvil"]
        assert found(api, globex_buyer, q="anvil") == ["Globex anvil"]
        # Naming the other tenant's seller does not reach past the tenant filter.
        assert found(api, globex_buyer, seller_id=acme_seller_id) == []
        body = api.get("/v1/search/products", token=globex_buyer, params={"q": "anvil"}).json()
        assert body["total"] == 1 and len(body["facets"]["seller_id"]) == 1
        suggest = api.get("/v1/search/suggest", token=globex_buyer, params={"q": "acm"})
        assert suggest.json() == {"suggestions": []}
        # The super admin works across tenants and sees both.
        assert sorted(found(api, root, q="anvil")) == ["Acme anvil", "Globex anvil"]

    def test_bad_parameters_answer_422_and_strangers_401(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        buyer = self.user(api, m, "buyer")
        for params in (
            {"min_price": -1},
            {"max_price": "ten"},
            {"min_price": 500, "max_price": 100},
            {"sort": "cheapest"},
            {"limit": 501},
            {"limit": 0},
            {"min_rating": 6},
            {"seller_id": "not-a-uuid"},
            {"in_stock": "perhaps"},
            {"cursor": "bm90LWEtY3Vyc29y"},
            {"q": "x" * 201},
        ):
            assert_problem(api.get("/v1/search/products", token=buyer, params=params), 422)
        first = api.get("/v1/search/products", token=buyer, params={"limit": 1}).json()
        assert first["next_cursor"] is None
        for params in ({}, {"q": ""}, {"q": "a", "limit": 51}):
            assert_problem(api.get("/v1/search/suggest", token=buyer, params=params), 422)
        assert_problem(api.get("/v1/search/products"), 401)
        assert_problem(api.get("/v1/search/suggest", params={"q": "a"}), 401)

    def test_the_search_routes_describe_themselves(self, api: Api) -> None:
        paths = api.get("/openapi.json").json()["paths"]
        described = paths["/v1/search/products"]["get"]
        assert "BM25" in described["description"]
        names = {p["name"] for p in described["parameters"]}
        assert {"q", "category", "seller_id", "min_price", "max_price", "min_rating"} <= names
        assert {"in_stock", "sort", "limit", "cursor"} <= names
        assert paths["/v1/search/suggest"]["get"]["description"]

    def test_a_cursor_from_another_query_is_refused(self, api: Api, root: str) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        for _ in range(3):
            self.product(api, seller, title=f"Candle {uuid4().hex[:4]}")
        first = api.get("/v1/search/products", token=buyer, params={"q": "candle", "limit": 1})
        cursor = first.json()["next_cursor"]
        assert cursor
        again = {"q": "candle", "limit": 1, "cursor": cursor}
        assert api.get("/v1/search/products", token=buyer, params=again).status_code == 200
        other = {"q": "candles", "limit": 1, "cursor": cursor}
        assert_problem(api.get("/v1/search/products", token=buyer, params=other), 422)
