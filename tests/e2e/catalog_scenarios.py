"""Sellers and catalog over HTTP. Each backend set runs these same scenarios."""

from __future__ import annotations

from typing import Any

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price


class CatalogScenarios(Shop):
    def test_seller_onboarding_follows_its_lifecycle(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        seller = self.user(api, m, "seller")
        created = api.post(
            "/v1/sellers", token=seller, json={"display_name": "Kiln & Co", "country": "FR"}
        )
        assert created.status_code == 201 and created.json()["status"] == "pending"
        seller_id = created.json()["id"]
        assert_problem(
            api.post("/v1/sellers", token=seller, json={"display_name": "Again", "country": "FR"}),
            409,
        )

        steps = [
            ("suspend", 409, None),
            ("approve", 200, "approved"),
            ("approve", 409, None),
            ("reject", 409, None),
            ("suspend", 200, "suspended"),
            ("suspend", 409, None),
            ("reject", 409, None),
            ("approve", 200, "approved"),
        ]
        for action, status, result in steps:
            response = api.post(f"/v1/sellers/{seller_id}/{action}", token=m.admin_token)
            assert response.status_code == status, (action, response.text)
            if result:
                assert response.json() == {"id": seller_id, "status": result}

        refused = api.created(
            api.post(
                "/v1/sellers",
                token=self.user(api, m, "seller"),
                json={"display_name": "Nope", "country": "FR"},
            )
        )
        for action, status in (
            ("reject", 200),
            ("approve", 409),
            ("suspend", 409),
            ("reject", 409),
        ):
            response = api.post(f"/v1/sellers/{refused}/{action}", token=m.admin_token)
            assert response.status_code == status, (action, response.text)

        own = api.get(f"/v1/sellers/{seller_id}", token=seller).json()
        assert (own["status"], own["display_name"], own["country"]) == (
            "approved",
            "Kiln & Co",
            "FR",
        )
        listed = api.get("/v1/sellers", token=m.admin_token, params={"status": "approved"})
        assert seller_id in [s["seller_id"] for s in listed.json()["items"]]
        other = self.user(api, m, "seller")
        assert_problem(api.get(f"/v1/sellers/{seller_id}", token=other), 404)
        assert api.get("/v1/sellers", token=other).json()["items"] == []

    def test_a_moderated_catalog_shows_buyers_only_approved_products(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        created = api.post(
            "/v1/products",
            token=seller,
            json={
                "title": "Mug",
                "category": "kitchen",
                "sku": "MUG-1",
                "price": price(1200),
                "attributes": {"colour": "blue"},
            },
        )
        assert created.status_code == 201 and created.json()["status"] == "pending_approval"
        product_id = created.json()["id"]
        assert_problem(api.get(f"/v1/products/{product_id}", token=buyer), 404)
        assert api.get(f"/v1/products/{product_id}", token=seller).json()["status"] == (
            "pending_approval"
        )
        queue = api.get(
            "/v1/products", token=m.admin_token, params={"status": "pending_approval"}
        ).json()["items"]
        assert [p["id"] for p in queue] == [product_id]
        assert_problem(
            api.post(
                "/v1/products",
                token=seller,
                json={"title": "Mug", "category": "kitchen", "sku": "mug-1", "price": price(1)},
            ),
            409,
        )

        approved = api.post(f"/v1/products/{product_id}/approve", token=m.admin_token)
        assert approved.json() == {"id": product_id, "status": "active"}
        assert_problem(api.post(f"/v1/products/{product_id}/approve", token=m.admin_token), 409)
        seen = api.get(f"/v1/products/{product_id}", token=buyer).json()
        assert seen["price"] == price(1200) and seen["attributes"] == {"colour": "blue"}
        assert (seen["available"], seen["rating"]) == (0, {"average": None, "count": 0})
        assert seen["seller_id"] == seller_id

        assert api.post(
            f"/v1/products/{product_id}/stock",
            token=seller,
            json={"warehouse": "berlin", "on_hand": 7},
        ).json() == {"available": 7}
        assert api.post(
            f"/v1/products/{product_id}/stock",
            token=seller,
            json={"warehouse": "paris", "on_hand": 5},
        ).json() == {"available": 12}
        assert api.post(
            f"/v1/products/{product_id}/stock",
            token=seller,
            json={"warehouse": "berlin", "on_hand": 2},
        ).json() == {"available": 7}
        assert api.get(f"/v1/products/{product_id}", token=buyer).json()["available"] == 7

        edited = api.request(
            "PATCH",
            f"/v1/products/{product_id}",
            token=seller,
            json={"title": "Big mug", "price": price(1500)},
        )
        assert edited.json()["status"] == "active"
        # The price is live at once; the title waits for moderation (see the next scenario).
        after = api.get(f"/v1/products/{product_id}", token=buyer).json()
        assert (after["title"], after["price"]["amount"], after["category"]) == (
            "Mug",
            1500,
            "kitchen",
        )
        api.post(f"/v1/products/{product_id}/approve", token=m.admin_token)
        assert api.get(f"/v1/products/{product_id}", token=buyer).json()["title"] == "Big mug"

    def test_a_moderated_edit_waits_while_the_approved_version_stays_visible(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Issue 27: a seller's PATCH of an approved product was live and searchable at once."""
        m = self.marketplace(api, root, "Moderated")
        seller, _ = self.approved_seller(api, m)
        rival, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product = self.product(api, seller, title="Walnut spoon", description="Oiled")
        path = f"/v1/products/{product}"
        api.post(f"{path}/approve", token=m.admin_token)

        def shown(token: str) -> dict[str, Any]:
            answer = api.get(path, token=token)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        def found(query: str) -> list[str]:
            hits = api.get("/v1/search/products", token=buyer, params={"q": query}).json()
            return [item["title"] for item in hits["items"]]

        edit = {"title": "Golden spoon", "description": "Buy elsewhere", "category": "garden"}
        edited = api.request("PATCH", path, token=seller, json=edit)
        assert edited.status_code == 200, edited.text
        assert edited.json() == {
            "id": product,
            "status": "active",
            "revision_status": "pending_approval",
        }

        # Buyers, other sellers and search see the approved version; the seller and the
        # moderators see the edit waiting.
        for token in (buyer, rival):
            seen = shown(token)
            assert (seen["title"], seen["description"], seen["category"]) == (
                "Walnut spoon",
                "Oiled",
                "kitchen",
            )
            assert seen["revision"] is None
        assert found("golden") == [] and found("walnut") == ["Walnut spoon"]
        for token in (seller, m.admin_token):
            seen = shown(token)
            assert seen["title"] == "Walnut spoon"
            assert seen["revision"] == {**edit, "status": "pending_approval", "reason": None}
        queue = api.get(
            "/v1/products", token=m.admin_token, params={"revision_status": "pending_approval"}
        ).json()["items"]
        assert [p["id"] for p in queue] == [product]
        assert api.get("/v1/products", token=buyer).json()["items"][0]["revision"] is None

        # A price edit meanwhile is live at once, and the edit still waits.
        repriced = api.request("PATCH", path, token=seller, json={"price": price(1_999)})
        assert repriced.json()["revision_status"] == "pending_approval"
        assert shown(buyer)["price"] == price(1_999)

        # Rejected: the approved version stays, and the seller reads why.
        rejected = api.post(f"{path}/reject", token=m.admin_token, json={"reason": "off-site"})
        assert rejected.json() == {"id": product, "status": "active"}
        assert shown(buyer)["title"] == "Walnut spoon"
        assert shown(seller)["revision"]["status"] == "rejected"
        assert shown(seller)["revision"]["reason"] == "off-site"
        assert found("walnut") == ["Walnut spoon"]
        assert_problem(api.post(f"{path}/approve", token=m.admin_token), 409)  # nothing waits

        # Edited again and approved: the new version is live, and searchable.
        again = {"title": "Golden spoon"}
        assert api.request("PATCH", path, token=seller, json=again).status_code == 200
        assert shown(buyer)["title"] == "Walnut spoon"
        approved = api.post(f"{path}/approve", token=m.admin_token)
        assert approved.json() == {"id": product, "status": "active"}
        seen = shown(buyer)
        assert (seen["title"], seen["description"], seen["revision"]) == (
            "Golden spoon",
            "Oiled",
            None,
        )
        assert shown(seller)["revision"] is None
        assert found("golden") == ["Golden spoon"] and found("walnut") == []

    def test_a_rejected_product_goes_back_to_moderation_when_edited(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        seller, _ = self.approved_seller(api, m)
        product_id = self.product(api, seller)
        rejected = api.post(
            f"/v1/products/{product_id}/reject",
            token=m.admin_token,
            json={"reason": "blurry photo"},
        )
        assert rejected.json()["status"] == "rejected"
        edited = api.request(
            "PATCH", f"/v1/products/{product_id}", token=seller, json={"description": "sharp photo"}
        )
        assert edited.json()["status"] == "pending_approval"

    def test_without_moderation_products_are_active_at_once(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, _ = self.approved_seller(api, m)
        created = api.post(
            "/v1/products",
            token=seller,
            json={"title": "Kettle", "category": "kitchen", "sku": "K-1", "price": price(4000)},
        )
        assert created.json()["status"] == "active"

    def test_a_suspended_sellers_products_leave_sale_and_come_back(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        product_id = self.product(api, seller)
        api.post(
            f"/v1/products/{product_id}/stock",
            token=seller,
            json={"warehouse": "main", "on_hand": 3},
        )
        assert api.get(f"/v1/products/{product_id}", token=buyer).json()["available"] == 3

        api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token)
        assert_problem(api.get(f"/v1/products/{product_id}", token=buyer), 404)
        assert api.get(f"/v1/products/{product_id}", token=seller).json()["available"] == 0
        assert_problem(
            api.post(
                "/v1/products",
                token=seller,
                json={"title": "X", "category": "c", "sku": "X-1", "price": price(5)},
            ),
            409,
        )

        api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token)
        assert api.get(f"/v1/products/{product_id}", token=buyer).json()["available"] == 3

    def test_only_an_approved_seller_lists_and_only_the_owner_edits(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        pending = self.user(api, m, "seller")
        api.created(
            api.post("/v1/sellers", token=pending, json={"display_name": "Slow", "country": "DE"})
        )
        body = {"title": "T", "category": "c", "sku": "S-1", "price": price(100)}
        assert_problem(api.post("/v1/products", token=pending, json=body), 409)
        no_profile = self.user(api, m, "seller")
        assert_problem(api.post("/v1/products", token=no_profile, json=body), 404)

        seller, _ = self.approved_seller(api, m)
        other, _ = self.approved_seller(api, m)
        product_id = self.product(api, seller)
        for token in (other, no_profile):
            assert_problem(
                api.request(
                    "PATCH", f"/v1/products/{product_id}", token=token, json={"title": "mine now"}
                ),
                404,
            )
            assert_problem(
                api.post(
                    f"/v1/products/{product_id}/stock",
                    token=token,
                    json={"warehouse": "w", "on_hand": 1},
                ),
                404,
            )

    def test_bad_catalog_input_is_refused_and_changes_nothing(
        self, api: Api, root: str, container: Any
    ) -> None:
        m = self.marketplace(api, root)
        seller, _ = self.approved_seller(api, m)
        product_id = self.product(api, seller)
        head = container.log.head()
        bad_products = [
            {
                "title": "T",
                "category": "c",
                "sku": "A",
                "price": {"amount": 1.5, "currency": "USD"},
            },
            {
                "title": "T",
                "category": "c",
                "sku": "A",
                "price": {"amount": "100", "currency": "USD"},
            },
            {"title": "T", "category": "c", "sku": "A", "price": price(0)},
            {"title": "T", "category": "c", "sku": "A", "price": price(5, "usd")},
            {"title": "T", "category": "c", "sku": "bad sku!", "price": price(5)},
            {"title": "", "category": "c", "sku": "A", "price": price(5)},
            {"title": "T", "category": "c", "sku": "A", "price": price(5), "extra": 1},
        ]
        for body in bad_products:
            assert_problem(api.post("/v1/products", token=seller, json=body), 422)
        for body in (
            {"warehouse": "w", "on_hand": -1},
            {"warehouse": "", "on_hand": 1},
            {"warehouse": "w w", "on_hand": 1},
            {"warehouse": "w", "on_hand": 1.0},
        ):
            assert_problem(
                api.post(f"/v1/products/{product_id}/stock", token=seller, json=body), 422
            )
        assert_problem(
            api.request("PATCH", f"/v1/products/{product_id}", token=seller, json={}), 422
        )
        assert_problem(
            api.post(
                "/v1/sellers",
                token=self.user(api, m, "seller"),
                json={"display_name": "X", "country": "Germany"},
            ),
            422,
        )
        # Only the seller made above: its user, its email's claim, and its sign-in's session.
        assert container.log.head() == head + 3

    def test_every_new_route_answers_404_to_another_tenant_and_403_to_the_wrong_role(
        self, api: Api, root: str
    ) -> None:
        m, other = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        seller, seller_id = self.approved_seller(api, m)
        product_id = self.product(api, seller)
        buyer = self.user(api, m, "buyer")
        foreign_admin = other.admin_token
        foreign_seller, _ = self.approved_seller(api, other)
        foreign_buyer = self.user(api, other, "buyer")
        stock = {"warehouse": "w", "on_hand": 1}
        commission = {"commission_bps": 500}
        # (method, path, body, who may call it, someone of the right role in another tenant)
        routes = [
            ("POST", f"/v1/sellers/{seller_id}/approve", None, m.admin_token, foreign_admin),
            ("POST", f"/v1/sellers/{seller_id}/reject", None, m.admin_token, foreign_admin),
            ("POST", f"/v1/sellers/{seller_id}/suspend", None, m.admin_token, foreign_admin),
            (
                "PUT",
                f"/v1/sellers/{seller_id}/commission",
                commission,
                m.admin_token,
                foreign_admin,
            ),
            ("GET", f"/v1/sellers/{seller_id}", None, m.admin_token, foreign_admin),
            ("POST", f"/v1/products/{product_id}/approve", None, m.admin_token, foreign_admin),
            ("POST", f"/v1/products/{product_id}/reject", None, m.admin_token, foreign_admin),
            (
                "PUT",
                f"/v1/products/{product_id}/commission",
                commission,
                m.admin_token,
                foreign_admin,
            ),
            ("PATCH", f"/v1/products/{product_id}", {"title": "x"}, seller, foreign_seller),
            ("POST", f"/v1/products/{product_id}/stock", stock, seller, foreign_seller),
            ("GET", f"/v1/products/{product_id}", None, seller, foreign_buyer),
        ]
        for method, path, body, _allowed, foreigner in routes:
            assert_problem(api.request(method, path, token=foreigner, json=body), 404)
        wrong_role = {m.admin_token: buyer, seller: buyer}
        for method, path, body, allowed, _ in routes:
            if method == "GET":
                continue  # reads are open to every signed-in role of the tenant
            assert_problem(api.request(method, path, token=wrong_role[allowed], json=body), 403)
        assert_problem(
            api.post("/v1/sellers", token=buyer, json={"display_name": "B", "country": "DE"}), 403
        )
        assert_problem(
            api.post(
                "/v1/products",
                token=m.admin_token,
                json={"title": "T", "category": "c", "sku": "Z", "price": price(5)},
            ),
            403,
        )
        listed = api.get("/v1/products", token=foreign_admin).json()["items"]
        assert product_id not in [p["id"] for p in listed]
