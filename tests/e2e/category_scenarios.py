"""Categories (issue 18, point 3): each tenant's tree, managed by its marketplace admins; once a
tenant has any, products and commission overrides must name one. Each backend set runs these."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price


def names(tree: list[dict[str, Any]]) -> list[Any]:
    """The tree as nested (name, [children]) pairs."""
    return [(n["name"], names(n["children"])) for n in tree]


class CategoryScenarios(Shop):
    def add(self, api: Api, token: str, name: str, parent: str | None = None) -> str:
        return api.created(
            api.post("/v1/categories", token=token, json={"name": name, "parent_id": parent})
        )

    def tree(self, api: Api, token: str) -> list[dict[str, Any]]:
        response = api.get("/v1/categories", token=token)
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def test_an_admin_builds_a_tree_that_everyone_in_the_tenant_reads(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root, "Trees", moderation="auto")
        admin, buyer = m.admin_token, self.user(api, m, "buyer")
        assert self.tree(api, buyer) == []
        kitchen = self.add(api, admin, "Kitchen")
        teapots = self.add(api, admin, "Teapots", kitchen)
        self.add(api, admin, "Garden")
        cups = self.add(api, admin, "Cups", kitchen)
        assert names(self.tree(api, buyer)) == [
            ("Garden", []),
            ("Kitchen", [("Cups", []), ("Teapots", [])]),
        ]
        one = api.get(f"/v1/categories/{teapots}", token=buyer).json()
        assert (one["name"], one["parent_id"], one["tenant_id"]) == (
            "Teapots",
            kitchen,
            m.tenant_id,
        )

        # Rename, move under another parent, move to the top, remove a leaf.
        path = f"/v1/categories/{cups}"
        assert api.request("PATCH", path, token=admin, json={"name": "Mugs"}).status_code == 200
        garden = next(n["id"] for n in self.tree(api, buyer) if n["name"] == "Garden")
        api.request("PATCH", f"/v1/categories/{teapots}", token=admin, json={"parent_id": garden})
        api.request("PATCH", path, token=admin, json={"parent_id": None})
        assert names(self.tree(api, buyer)) == [
            ("Garden", [("Teapots", [])]),
            ("Kitchen", []),
            ("Mugs", []),
        ]
        assert api.request("DELETE", path, token=admin).status_code == 204
        assert_problem(api.get(path, token=buyer), 404)
        assert names(self.tree(api, buyer)) == [("Garden", [("Teapots", [])]), ("Kitchen", [])]

    def test_products_and_commissions_must_name_a_real_category(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Named", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        # With no categories, any name goes (a tenant that does not manage them).
        free = self.product(api, seller, category="whatever")
        kitchen = self.add(api, m.admin_token, "Kitchen")
        self.add(api, m.admin_token, "Teapots", kitchen)

        head = container.log.head()
        body = {"title": "Pot", "description": "", "category": "Toasters", "sku": "P-1"}
        refused = api.post("/v1/products", token=seller, json={**body, "price": price(100)})
        assert_problem(refused, 422)
        edit = api.request(
            "PATCH", f"/v1/products/{free}", token=seller, json={"category": "Toasters"}
        )
        assert_problem(edit, 422)
        commission = api.request(
            "PUT",
            f"/v1/tenants/{m.tenant_id}/commission/categories/Toasters",
            token=m.admin_token,
            json={"commission_bps": 500},
        )
        assert_problem(commission, 422)
        assert container.log.head() == head

        # A real one, whatever its case, is taken and spelled as the tree spells it.
        product = self.stocked(api, seller, 2, 3_000, category="teapots")
        assert api.get(f"/v1/products/{product}", token=buyer).json()["category"] == "Teapots"
        facets = api.get("/v1/search/products", token=buyer).json()["facets"]["category"]
        assert {"value": "Teapots", "count": 1} in facets
        tree = self.tree(api, buyer)
        assert tree[0]["children"][0]["products"] == 1
        moved = api.request(
            "PATCH", f"/v1/products/{free}", token=seller, json={"category": "KITCHEN"}
        )
        assert moved.status_code == 200, moved.text
        assert api.get(f"/v1/products/{free}", token=buyer).json()["category"] == "Kitchen"

    def test_a_category_in_use_keeps_its_name_and_its_place_in_the_tree(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Kept", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        admin = m.admin_token
        kitchen = self.add(api, admin, "Kitchen")
        teapots = self.add(api, admin, "Teapots", kitchen)
        garden = self.add(api, admin, "Garden")
        self.product(api, seller, category="Teapots")
        rate = {"commission_bps": 700}
        api.request(
            "PUT", f"/v1/tenants/{m.tenant_id}/commission/categories/Garden", token=admin, json=rate
        )

        head = container.log.head()
        for category in (teapots, garden):  # products name one, a commission override the other
            path = f"/v1/categories/{category}"
            assert_problem(api.request("PATCH", path, token=admin, json={"name": "X"}), 409)
            assert_problem(api.request("DELETE", path, token=admin), 409)
        # A parent stays while it has children; a name is taken whatever its case.
        assert_problem(api.request("DELETE", f"/v1/categories/{kitchen}", token=admin), 409)
        taken = {"name": "kitchen"}
        assert_problem(api.post("/v1/categories", token=admin, json=taken), 409)
        # No cycles, no unknown parents, no deeper than six levels.
        under_itself = {"parent_id": teapots}
        path = f"/v1/categories/{kitchen}"
        assert_problem(api.request("PATCH", path, token=admin, json=under_itself), 422)
        orphan = {"name": "Orphan", "parent_id": str(uuid4())}
        assert_problem(api.post("/v1/categories", token=admin, json=orphan), 404)
        assert container.log.head() == head

        parent = None
        for level in range(6):
            parent = self.add(api, admin, f"Level {level}", parent)
        assert_problem(
            api.post("/v1/categories", token=admin, json={"name": "Seven", "parent_id": parent}),
            422,
        )
        # Moving keeps names, so a category in use may move.
        to_garden = {"parent_id": garden}
        moved = api.request("PATCH", f"/v1/categories/{teapots}", token=admin, json=to_garden)
        assert moved.status_code == 200, moved.text

    def test_only_admins_of_the_tenant_manage_and_other_tenants_see_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Ours")
        other = self.marketplace(api, root, "Theirs")
        ours = self.add(api, m.admin_token, "Kitchen")
        members = [self.user(api, m, role) for role in ("buyer", "seller")]
        head = container.log.head()
        for token in members:
            assert_problem(api.post("/v1/categories", token=token, json={"name": "X"}), 403)
            path = f"/v1/categories/{ours}"
            assert_problem(api.request("PATCH", path, token=token, json={"name": "X"}), 403)
            assert_problem(api.request("DELETE", path, token=token), 403)
        # Another tenant's category answers as an unknown one does, for reads and changes.
        for path in (f"/v1/categories/{ours}", f"/v1/categories/{uuid4()}"):
            assert_problem(api.get(path, token=other.admin_token), 404)
            body = {"name": "Mine"}
            assert_problem(api.request("PATCH", path, token=other.admin_token, json=body), 404)
            assert_problem(api.request("DELETE", path, token=other.admin_token), 404)
        assert self.tree(api, other.admin_token) == []
        theirs = {"name": "Sub", "parent_id": ours}
        assert_problem(api.post("/v1/categories", token=other.admin_token, json=theirs), 404)
        assert container.log.head() == head
        # Staff who cross tenants name the tenant whose tree they read.
        assert_problem(api.get("/v1/categories", token=root), 422)
        seen = api.get("/v1/categories", token=root, params={"tenant_id": m.tenant_id}).json()
        assert names(seen["items"]) == [("Kitchen", [])]
        assert_problem(api.get("/v1/categories"), 401)

    def test_bad_input_is_a_problem_and_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Bad")
        kitchen = self.add(api, m.admin_token, "Kitchen")
        head = container.log.head()
        for body in ({"name": ""}, {"name": "x" * 101}, {"name": 5}, {"nam": "x"}, {}):
            assert_problem(api.post("/v1/categories", token=m.admin_token, json=body), 422)
        bad_parent = {"name": "x", "parent_id": "not-a-uuid"}
        assert_problem(api.post("/v1/categories", token=m.admin_token, json=bad_parent), 422)
        path = f"/v1/categories/{kitchen}"
        assert_problem(api.request("PATCH", path, token=m.admin_token, json={"name": " "}), 422)
        assert_problem(api.request("PATCH", path, token=m.admin_token, content="{"), 400)
        assert_problem(api.get("/v1/categories/not-a-uuid", token=m.admin_token), 422)
        assert container.log.head() == head

    def test_a_repeated_post_adds_one_category(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Repeat")
        key = f"cat-{uuid4()}"
        first = api.post("/v1/categories", token=m.admin_token, json={"name": "A"}, key=key)
        again = api.post("/v1/categories", token=m.admin_token, json={"name": "A"}, key=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert names(self.tree(api, m.admin_token)) == [("A", [])]

    def test_a_name_is_the_same_however_its_accents_are_typed(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Issue 27: "café" typed composed and decomposed made two categories."""
        composed, decomposed = "Caf\u00e9", "Cafe\u0301"
        m = self.marketplace(api, root, "Accents", moderation="auto")
        admin, buyer = m.admin_token, self.user(api, m, "buyer")
        seller, _ = self.approved_seller(api, m)
        cafe = self.add(api, admin, decomposed)
        assert_problem(api.post("/v1/categories", token=admin, json={"name": composed}), 409)
        assert_problem(api.post("/v1/categories", token=admin, json={"name": "CAFE\u0301"}), 409)
        assert names(self.tree(api, buyer)) == [(composed, [])]
        assert api.get(f"/v1/categories/{cafe}", token=buyer).json()["name"] == composed

        # A product names it either way and carries the tree's one spelling, counted once.
        one = self.stocked(api, seller, 1, 500, category=composed)
        other = self.stocked(api, seller, 1, 500, category=decomposed.lower())
        for product in (one, other):
            assert api.get(f"/v1/products/{product}", token=buyer).json()["category"] == composed
        facets = api.get("/v1/search/products", token=buyer).json()["facets"]["category"]
        assert facets == [{"value": composed, "count": 2}]
        assert self.tree(api, buyer)[0]["products"] == 2
        # So it is in use, whichever way a rename is asked for.
        rename = {"name": "Coffee"}
        assert_problem(
            api.request("PATCH", f"/v1/categories/{cafe}", token=admin, json=rename), 409
        )

    def test_a_category_is_in_use_by_its_exact_name_on_every_backend(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Issue 27's follow-up: SQLite's lower() lowers only ASCII, so a capitalised accented
        name ("Éclairs") was never counted as in use, and could be renamed or removed from
        under its products; MariaDB's collation ignores accents, so "Eclairs" was counted as
        in use by products of "Éclairs", and the two were counted as one in the tree."""
        accented, plain = "\u00c9clairs", "Eclairs"
        m = self.marketplace(api, root, "Pastry", moderation="auto")
        admin, buyer = m.admin_token, self.user(api, m, "buyer")
        seller, _ = self.approved_seller(api, m)
        used = self.add(api, admin, accented)
        unused = self.add(api, admin, plain)
        product = self.stocked(api, seller, 1, 500, category=accented.lower())
        assert api.get(f"/v1/products/{product}", token=buyer).json()["category"] == accented

        # No product names the plain one: it goes.
        assert api.request("DELETE", f"/v1/categories/{unused}", token=admin).status_code == 204
        self.add(api, admin, plain)
        self.stocked(api, seller, 1, 500, category=plain)
        counts = {node["name"]: node["products"] for node in self.tree(api, buyer)}
        assert counts == {accented: 1, plain: 1}

        # The accented one is in use: it keeps its name and its place.
        head = container.log.head()
        path = f"/v1/categories/{used}"
        assert_problem(api.request("PATCH", path, token=admin, json={"name": "Choux"}), 409)
        assert_problem(api.request("DELETE", path, token=admin), 409)
        assert container.log.head() == head
        assert api.get(path, token=buyer).json()["name"] == accented
