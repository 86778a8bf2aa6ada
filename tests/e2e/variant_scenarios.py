"""Variants over HTTP, as a seller app and a storefront call them (API.md v1.2 "Variants"): a
T-shirt in three sizes is one product with three variants, each with its own sku, price and
stock; buyers put variants in carts, check them out and return them; products listed without
variants keep working as their own single variant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import ADDRESS, Shop, price

SIZES = {"name": "Size", "values": ["S", "M", "L"]}


class VariantScenarios(Shop):
    def tshirt(self, api: Api, seller: str, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Tee",
            "description": "Cotton",
            "category": "apparel",
            "sku": "TEE",
            "price": price(2000),
            "options": [SIZES],
            "variants": [
                {"sku": "TEE-S", "options": {"Size": "S"}},
                {"sku": "TEE-M", "options": {"Size": "M"}},
                {"sku": "TEE-L", "options": {"Size": "L"}, "price": price(2500)},
            ],
            **overrides,
        }
        created = api.post("/v1/products", token=seller, json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())

    def test_a_tshirt_in_three_sizes_is_one_product_with_its_own_stock_per_size(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        made = self.tshirt(api, seller)
        tee = made["id"]
        ids = {v["options"]["Size"]: v["id"] for v in made["variants"]}
        assert sorted(ids) == ["L", "M", "S"] and tee not in ids.values()
        for size, on_hand in (("S", 5), ("M", 10), ("L", 1)):
            stocked = api.post(
                f"/v1/products/{tee}/variants/{ids[size]}/stock",
                token=seller,
                json={"warehouse": "main", "on_hand": on_hand},
            )
            assert stocked.json() == {"available": on_hand}
        # The product's own stock route is for products without variants.
        assert_problem(
            api.post(
                f"/v1/products/{tee}/stock", token=seller, json={"warehouse": "w", "on_hand": 1}
            ),
            422,
        )

        seen = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert seen["options"] == [SIZES]
        assert seen["available"] == 16 and seen["price"] == price(2000)
        assert [
            (v["sku"], v["options"], v["price"]["amount"], v["available"]) for v in seen["variants"]
        ] == [
            ("TEE-S", {"Size": "S"}, 2000, 5),
            ("TEE-M", {"Size": "M"}, 2000, 10),
            ("TEE-L", {"Size": "L"}, 2500, 1),
        ]

        # A cart line is a variant; the product's own id no longer names one.
        cart = api.created(api.post("/v1/carts", token=buyer))
        assert_problem(
            api.request("PUT", f"/v1/carts/{cart}/items/{tee}", token=buyer, json={"quantity": 1}),
            422,
        )
        for size, quantity in (("M", 2), ("L", 1)):
            put = api.request(
                "PUT",
                f"/v1/carts/{cart}/items/{ids[size]}",
                token=buyer,
                json={"quantity": quantity},
            )
            assert put.status_code == 200, put.text
        lines = api.get(f"/v1/carts/{cart}", token=buyer).json()["lines"]
        assert sorted(
            (line["sku"], line["quantity"], line["unit_price"]["amount"]) for line in lines
        ) == [("TEE-L", 1, 2500), ("TEE-M", 2, 2000)]
        assert {line["product_id"] for line in lines} == {tee}

        order = api.post(
            "/v1/checkout",
            token=buyer,
            key="tee-order",
            json={"cart_id": cart, "shipping_address": ADDRESS},
        )
        assert order.status_code == 201, order.text
        assert order.json()["total"] == price(6500)
        so = order.json()["seller_orders"][0]["id"]
        # Each variant's own stock holds its units; the other sizes are untouched.
        after = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert [v["available"] for v in after["variants"]] == [5, 8, 0]
        assert after["available"] == 13
        # The last L is held: a second buyer cannot have it.
        other = self.user(api, m, "buyer")
        late = self.cart(api, other, {ids["L"]: 1})
        assert_problem(
            api.post(
                "/v1/checkout",
                token=other,
                key="late",
                json={"cart_id": late, "shipping_address": ADDRESS},
            ),
            409,
        )

        self.pay(api, container, order.json()["order_id"])
        seller_order = api.get(f"/v1/seller-orders/{so}", token=seller).json()
        assert sorted(
            (line["variant_id"], line["sku"], line["options"], line["quantity"])
            for line in seller_order["lines"]
        ) == sorted([(ids["M"], "TEE-M", {"Size": "M"}, 2), (ids["L"], "TEE-L", {"Size": "L"}, 1)])
        assert {line["product_id"] for line in seller_order["lines"]} == {tee}
        # The dashboards name the variants their best products sold as.
        seller_id = seller_order["seller_id"]
        (top,) = api.get(f"/v1/sellers/{seller_id}/analytics", token=seller).json()["top_products"]
        assert top["product_id"] == tee and top["units"] == 3
        assert [(v["variant_id"], v["sku"], v["units"], v["gmv"]) for v in top["variants"]] == [
            (ids["M"], "TEE-M", 2, price(4000)),
            (ids["L"], "TEE-L", 1, price(2500)),
        ]
        # So does the journal: the lines of the order's payment carry the skus it sold.
        finance = self.platform_user(api, root, "finance_admin")
        today = str(datetime.now(UTC).date())
        journal = api.get(
            "/v1/ledger/journal",
            token=finance,
            params={"tenant_id": m.tenant_id, "from": today, "to": today},
        ).json()
        paid_lines = [
            line for line in journal["lines"] if line["order_id"] == order.json()["order_id"]
        ]
        assert paid_lines and all(sorted(line["skus"]) == ["TEE-L", "TEE-M"] for line in paid_lines)
        mine = api.get(f"/v1/orders/{order.json()['order_id']}", token=buyer).json()
        assert {line["variant_id"] for s in mine["seller_orders"] for line in s["lines"]} == {
            ids["M"],
            ids["L"],
        }

        # A return names the variant when the order bought several of the product.
        api.post(
            f"/v1/seller-orders/{so}/ship",
            token=seller,
            json={"carrier": "UPS", "tracking_number": "1Z"},
        )
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        # Reviews are per product, and say which of its variants the reviewer had.
        reviewed = api.post(
            f"/v1/products/{tee}/reviews",
            token=buyer,
            json={"order_id": order.json()["order_id"], "rating": 4, "body": "Fits"},
        )
        assert reviewed.status_code == 201, reviewed.text
        (review,) = api.get(f"/v1/products/{tee}/reviews", token=buyer).json()["items"]
        assert sorted(v["sku"] for v in review["variants"]) == ["TEE-L", "TEE-M"]
        assert api.get(f"/v1/products/{tee}", token=buyer).json()["rating"]["count"] == 1
        assert_problem(
            api.post(
                "/v1/returns",
                token=buyer,
                json={
                    "seller_order_id": so,
                    "lines": [{"product_id": tee, "quantity": 1}],
                    "reason": "too big",
                },
            ),
            422,
        )
        asked = api.post(
            "/v1/returns",
            token=buyer,
            json={
                "seller_order_id": so,
                "lines": [{"product_id": tee, "variant_id": ids["M"], "quantity": 1}],
                "reason": "too big",
            },
        )
        rid = api.created(asked)
        assert api.get(f"/v1/returns/{rid}", token=buyer).json()["lines"] == [
            {"product_id": tee, "variant_id": ids["M"], "quantity": 1}
        ]
        api.post(f"/v1/returns/{rid}/authorize", token=seller, json={"instructions": "Send it"})
        received = api.post(
            f"/v1/returns/{rid}/receive",
            token=seller,
            json={"lines": [{"product_id": tee, "quantity": 1, "restock_warehouse": "main"}]},
        )
        assert received.status_code == 200, received.text
        view = api.get(f"/v1/returns/{rid}", token=buyer).json()
        assert view["refunded"] == price(2000)
        assert view["received_lines"][0]["variant_id"] == ids["M"]
        # The returned M is back on sale, and only the M.
        stock = api.get(f"/v1/products/{tee}", token=buyer).json()["variants"]
        assert [v["available"] for v in stock] == [5, 9, 0]

    def test_variants_are_added_edited_and_retired_by_their_seller_only(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, other_seller, buyer, _ = self.shop(api, root)
        made = self.tshirt(api, seller)
        tee = made["id"]
        ids = {v["options"]["Size"]: v["id"] for v in made["variants"]}

        def add(body: dict[str, Any], token: str = seller) -> Any:
            return api.post(f"/v1/products/{tee}/variants", token=token, json=body)

        assert_problem(add({"sku": "TEE-XL", "options": {"Size": "XL"}}), 422)  # not an option
        assert_problem(add({"sku": "TEE-M2", "options": {"Size": "M"}}), 422)  # on sale already
        assert_problem(add({"sku": "TEE-S", "options": {"Size": "S"}}), 422)
        assert_problem(add({"sku": "X", "options": {"Size": "S", "Colour": "Red"}}), 422)
        assert_problem(add({"sku": "X", "options": {}}), 422)
        assert_problem(add({"sku": "TEE-XL", "options": {"Size": "XL"}}, other_seller), 404)
        # Another marketplace's people know none of these ids: 404, as unknown ones.
        elsewhere = self.marketplace(api, root, name="Elsewhere", moderation="auto")
        stranger, _ = self.approved_seller(api, elsewhere)
        outsider = self.user(api, elsewhere, "buyer")
        assert_problem(add({"sku": "TEE-XL", "options": {"Size": "XL"}}, stranger), 404)
        assert_problem(api.get(f"/v1/products/{tee}", token=outsider), 404)
        their_cart = api.created(api.post("/v1/carts", token=outsider))
        assert_problem(
            api.request(
                "PUT",
                f"/v1/carts/{their_cart}/items/{ids['S']}",
                token=outsider,
                json={"quantity": 1},
            ),
            404,
        )
        assert_problem(
            api.post(
                f"/v1/products/{tee}/variants/{ids['S']}/stock",
                token=stranger,
                json={"warehouse": "main", "on_hand": 1},
            ),
            404,
        )
        # Options gain values (never lose them once variants use them).
        assert_problem(
            api.request(
                "PUT",
                f"/v1/products/{tee}/options",
                token=seller,
                json={"options": [{"name": "Size", "values": ["S", "M"]}]},
            ),
            422,
        )
        grown = api.request(
            "PUT",
            f"/v1/products/{tee}/options",
            token=seller,
            json={"options": [{"name": "Size", "values": ["S", "M", "L", "XL"]}]},
        )
        assert grown.status_code == 200, grown.text
        assert_problem(add({"sku": "TEE-M", "options": {"Size": "XL"}}), 409)  # sku taken
        xl = api.created(add({"sku": "TEE-XL", "options": {"size": "xl"}, "price": price(2700)}))
        shown = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert [v["options"]["Size"] for v in shown["variants"]] == ["S", "M", "L", "XL"]

        # Edits: a new sku, an own price, then back to the product's.
        patch = f"/v1/products/{tee}/variants/{ids['S']}"
        edited = api.request("PATCH", patch, token=seller, json={"price": price(1500)})
        assert edited.status_code == 200, edited.text
        assert api.get(f"/v1/products/{tee}", token=buyer).json()["price"] == price(1500)
        api.request("PATCH", patch, token=seller, json={"price": None, "sku": "TEE-SMALL"})
        shown = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert shown["price"] == price(2000)
        assert shown["variants"][0]["sku"] == "TEE-SMALL"
        assert_problem(api.request("PATCH", patch, token=seller, json={}), 422)
        assert_problem(api.request("PATCH", patch, token=other_seller, json={"sku": "Z"}), 404)
        assert_problem(
            api.request(
                "PATCH", f"/v1/products/{tee}/variants/{tee}", token=seller, json={"sku": "Z"}
            ),
            422,
        )
        # The product's own price moves the variants that have none of their own.
        api.request("PATCH", f"/v1/products/{tee}", token=seller, json={"price": price(1800)})
        shown = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert [v["price"]["amount"] for v in shown["variants"]] == [1800, 1800, 2500, 2700]

        # Retired: gone from the product and from carts, kept by orders.
        api.post(
            f"/v1/products/{tee}/variants/{xl}/stock",
            token=seller,
            json={"warehouse": "main", "on_hand": 3},
        )
        cart = self.cart(api, buyer, {xl: 1})
        order = self.checkout(api, buyer, cart).json()
        gone = api.request("DELETE", f"/v1/products/{tee}/variants/{xl}", token=seller)
        assert gone.status_code == 204, gone.text
        assert_problem(
            api.request("DELETE", f"/v1/products/{tee}/variants/{xl}", token=seller), 409
        )
        shown = api.get(f"/v1/products/{tee}", token=buyer).json()
        assert xl not in [v["id"] for v in shown["variants"]]
        assert_problem(
            api.request(
                "PUT",
                f"/v1/carts/{self.cart(api, buyer, {})}/items/{xl}",
                token=buyer,
                json={"quantity": 1},
            ),
            409,
        )
        kept = api.get(f"/v1/orders/{order['order_id']}", token=buyer).json()
        assert kept["seller_orders"][0]["lines"][0]["variant_id"] == xl

    def test_a_product_without_variants_is_its_own_single_variant(
        self, api: Api, root: str
    ) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        mug = self.stocked(api, seller, 4, 900)
        shown = api.get(f"/v1/products/{mug}", token=buyer).json()
        assert shown["options"] == []
        assert shown["variants"] == [
            {
                "id": mug,
                "sku": shown["sku"],
                "options": {},
                "price": price(900),
                "available": 4,
            }
        ]
        cart = self.cart(api, buyer, {mug: 2})
        order = self.checkout(api, buyer, cart).json()
        line = order["seller_orders"][0]
        assert line["subtotal"] == price(1800)
        assert api.get(f"/v1/products/{mug}", token=buyer).json()["available"] == 2

    def test_bad_variant_input_is_refused_and_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, _, _ = self.shop(api, root)
        head = container.log.head()
        one = [{"sku": "A", "options": {"Size": "S"}}]
        bad: list[dict[str, Any]] = [
            {"options": [SIZES, SIZES], "variants": one},
            {"options": [{"name": "Size", "values": []}], "variants": one},
            {"options": [{"name": "Size", "values": ["S", "s"]}], "variants": one},
            {"options": [{"name": "", "values": ["S"]}], "variants": one},
            {"variants": one},  # no options to choose between
            {"options": [SIZES], "variants": [*one, {"sku": "B", "options": {"Size": "S"}}]},
            {"options": [SIZES], "variants": [{"sku": "A", "options": {"Size": "XXL"}}]},
            {"options": [SIZES], "variants": [{"sku": "bad sku!", "options": {"Size": "S"}}]},
            {
                "options": [SIZES],
                "variants": [{"sku": "A", "options": {"Size": "S"}, "price": price(5, "EUR")}],
            },
            {
                "options": [SIZES],
                "variants": [{"sku": "A", "options": {"Size": "S"}, "price": price(0)}],
            },
            {"options": [SIZES], "variants": [{"sku": "A", "options": {"Size": 1}}]},
            {"options": [SIZES], "variants": [{"sku": "T", "options": {"Size": "S"}}]},
        ]
        for body in bad:
            answer = api.post(
                "/v1/products",
                token=seller,
                json={"title": "T", "category": "c", "sku": "T", "price": price(5), **body},
            )
            assert answer.status_code in (409, 422), (body, answer.text)
            assert_problem(answer, answer.status_code)
        assert container.log.head() == head

    def test_search_finds_a_product_by_its_variants_options_and_prices(
        self, api: Api, root: str
    ) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        colours = {"name": "Colour", "values": ["Red", "Blue"]}
        tee = self.tshirt(
            api,
            seller,
            title="Striped tee",
            options=[SIZES, colours],
            variants=[
                {"sku": "ST-S-R", "options": {"Size": "S", "Colour": "Red"}},
                {"sku": "ST-M-B", "options": {"Size": "M", "Colour": "Blue"}},
                {"sku": "ST-L-R", "options": {"Size": "L", "Colour": "Red"}, "price": price(2500)},
            ],
        )["id"]
        mug = self.stocked(api, seller, 1, 900, title="Striped mug")

        def found(**params: Any) -> list[str]:
            answer = api.get("/v1/search/products", token=buyer, params={"q": "striped", **params})
            assert answer.status_code == 200, answer.text
            return [hit["id"] for hit in answer.json()["items"]]

        assert sorted(found()) == sorted([tee, mug])
        assert found(**{"option.Size": "M"}) == [tee]
        assert found(**{"option.size": "m"}) == [tee]  # names and values as keys
        # Two options must hold for one variant: there is no red M.
        assert found(**{"option.Size": "M", "option.Colour": "Red"}) == []
        assert found(**{"option.Size": "L", "option.Colour": "Red"}) == [tee]
        # A price filter matches any variant's price; the product sorts by its lowest.
        assert found(min_price=2400, max_price=2600) == [tee]
        assert found(min_price=2100, max_price=2400) == []
        assert found(sort="price_asc") == [mug, tee]
        facets = api.get("/v1/search/products", token=buyer, params={"q": "striped"}).json()[
            "facets"
        ]
        assert facets["options"] == {
            "Size": {"S": 1, "M": 1, "L": 1},
            "Colour": {"Red": 1, "Blue": 1},
        }
        # A retired variant's values and price leave the product's document.
        (large,) = [
            v["id"]
            for v in api.get(f"/v1/products/{tee}", token=buyer).json()["variants"]
            if v["sku"] == "ST-L-R"
        ]
        api.request("DELETE", f"/v1/products/{tee}/variants/{large}", token=seller)
        assert found(**{"option.Size": "L"}) == []
        assert found(min_price=2400, max_price=2600) == []
