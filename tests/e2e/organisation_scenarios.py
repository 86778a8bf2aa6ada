"""Seller Pro, as docs/api-seller-pro.md has a business call it: it signs up on the platform,
founds its organisation, applies to marketplaces, and acts as each one's seller with that
marketplace's token; no one else reaches its organisation."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price
from tests.e2e.world import PASSWORD


class OrganisationScenarios(Shop):
    def seller_pro(self, api: Api) -> str:
        """Signs a business up on the platform (no tenant) and signs it in."""
        email = f"pro-{uuid4().hex[:8]}@business.test"
        signed_up = api.http.post(
            "/v1/auth/signup", json={"email": email, "password": PASSWORD, "role": "seller_pro"}
        )
        assert signed_up.status_code == 201, signed_up.text
        return api.sign_in(email, PASSWORD)

    def organisation(self, api: Api, pro: str, name: str = "Fluxori Ltd") -> str:
        return api.created(api.post("/v1/organisations", token=pro, json={"name": name}))

    def join(self, api: Api, pro: str, organisation: str, tenant_id: str) -> dict[str, str]:
        joined = api.post(
            f"/v1/organisations/{organisation}/marketplaces",
            token=pro,
            json={"tenant_id": tenant_id, "display_name": "Fluxori", "country": "DE"},
        )
        assert joined.status_code == 201, joined.text
        body: dict[str, str] = joined.json()
        return body

    def marketplace_token(self, api: Api, pro: str, organisation: str, tenant_id: str) -> str:
        issued = api.post(
            f"/v1/organisations/{organisation}/marketplaces/{tenant_id}/token", token=pro
        )
        assert issued.status_code == 200, issued.text
        assert issued.headers["cache-control"] == "no-store"
        return str(issued.json()["access_token"])

    def test_a_business_joins_two_marketplaces_and_sells_on_one_as_its_seller(
        self, api: Api, root: str
    ) -> None:
        acme = self.marketplace(api, root, "Acme", moderation="auto")
        globex = self.marketplace(api, root, "Globex", currency="EUR")
        closed = self.marketplace(api, root, "Closed", seller_signup=False)
        pro = self.seller_pro(api)
        organisation = self.organisation(api, pro)
        assert_problem(api.post("/v1/organisations", token=pro, json={"name": "Again"}), 409)

        in_acme = self.join(api, pro, organisation, acme.tenant_id)
        in_globex = self.join(api, pro, organisation, globex.tenant_id)
        assert in_acme["status"] == in_globex["status"] == "pending"
        assert in_acme["seller_id"] != in_globex["seller_id"]
        again = api.post(
            f"/v1/organisations/{organisation}/marketplaces",
            token=pro,
            json={"tenant_id": acme.tenant_id, "display_name": "Twice", "country": "DE"},
        )
        assert_problem(again, 409)
        for tenant, status in ((str(uuid4()), 404), (closed.tenant_id, 403)):
            refused = api.post(
                f"/v1/organisations/{organisation}/marketplaces",
                token=pro,
                json={"tenant_id": tenant, "display_name": "Fluxori", "country": "DE"},
            )
            assert_problem(refused, status)

        # Each marketplace moderates it as any seller of its own.
        seller_a, seller_g = in_acme["seller_id"], in_globex["seller_id"]
        pending = api.get("/v1/sellers", token=acme.admin_token).json()["items"]
        assert [s["seller_id"] for s in pending] == [seller_a]
        assert (
            api.post(f"/v1/sellers/{seller_a}/approve", token=acme.admin_token).status_code == 200
        )
        assert (
            api.post(f"/v1/sellers/{seller_g}/reject", token=globex.admin_token).status_code == 200
        )
        assert_problem(api.post(f"/v1/sellers/{seller_g}/approve", token=acme.admin_token), 404)
        seen = api.get(f"/v1/organisations/{organisation}", token=pro).json()
        assert seen["name"] == "Fluxori Ltd"
        assert {(m["tenant_id"], m["seller_id"], m["status"]) for m in seen["marketplaces"]} == {
            (acme.tenant_id, seller_a, "approved"),
            (globex.tenant_id, seller_g, "rejected"),
        }

        # With Acme's token it is Acme's seller: it lists, and sells, there.
        as_seller = self.marketplace_token(api, pro, organisation, acme.tenant_id)
        assert api.get(f"/v1/sellers/{seller_a}", token=as_seller).json()["status"] == "approved"
        assert_problem(api.get(f"/v1/sellers/{seller_g}", token=as_seller), 404)
        assert_problem(
            api.post("/v1/sellers", token=as_seller, json={"display_name": "X", "country": "DE"}),
            409,
        )
        product = self.stocked(api, as_seller, 3, 1500)
        buyer = self.user(api, acme, "buyer")
        placed = self.checkout(api, buyer, self.cart(api, buyer, {product: 2}))
        assert placed.status_code == 201, placed.text
        assert placed.json()["seller_orders"][0]["seller_id"] == seller_a
        assert placed.json()["total"] == price(3000)
        queue = api.get("/v1/seller-orders", token=as_seller).json()["items"]
        assert [o["id"] for o in queue] == [placed.json()["seller_orders"][0]["id"]]
        # Rejected at Globex, its token there is issued but sells nothing.
        at_globex = self.marketplace_token(api, pro, organisation, globex.tenant_id)
        assert_problem(api.post("/v1/products", token=at_globex, json={}), 422)
        listed = api.post(
            "/v1/products",
            token=at_globex,
            json={
                "title": "Teapot",
                "description": "Cast iron",
                "category": "kitchen",
                "sku": "TP-1",
                "price": price(1000, "EUR"),
            },
        )
        assert_problem(listed, 409)

    def test_an_organisation_is_its_owners_alone(self, api: Api, root: str) -> None:
        acme = self.marketplace(api, root, "Acme")
        pro, rival = self.seller_pro(api), self.seller_pro(api)
        organisation = self.organisation(api, pro)
        self.organisation(api, rival, "Rival")
        self.join(api, pro, organisation, acme.tenant_id)
        unknown = str(uuid4())
        # Another business gets 404 for this organisation, exactly as for an unknown id.
        for path, body in (
            ("", None),
            ("/marketplaces", {"tenant_id": acme.tenant_id, "display_name": "X", "country": "DE"}),
            (f"/marketplaces/{acme.tenant_id}/token", None),
        ):
            method = "GET" if body is None and not path else "POST"
            titles = []
            for org in (organisation, unknown):
                answer = api.request(
                    method, f"/v1/organisations/{org}{path}", token=rival, json=body
                )
                titles.append(assert_problem(answer, 404)["title"])
            assert titles[0] == titles[1], path
        # A marketplace token acts as the seller, not as the account behind it.
        as_seller = self.marketplace_token(api, pro, organisation, acme.tenant_id)
        for method, path in (("GET", "/v1/me"), ("GET", "/v1/me/export"), ("DELETE", "/v1/me")):
            assert_problem(api.request(method, path, token=as_seller), 403)
        assert api.get("/v1/me", token=pro).json()["roles"] == ["seller_pro"]
        # A marketplace the organisation never joined has no token for it.
        other = self.marketplace(api, root, "Other")
        assert_problem(
            api.post(
                f"/v1/organisations/{organisation}/marketplaces/{other.tenant_id}/token", token=pro
            ),
            404,
        )
        # A marketplace's own people are not the organisation's: 403, whatever the id.
        for token in (
            acme.admin_token,
            self.user(api, acme, "buyer"),
            self.user(api, acme, "seller"),
        ):
            assert_problem(api.get(f"/v1/organisations/{organisation}", token=token), 403)
            assert_problem(api.post("/v1/organisations", token=token, json={"name": "X"}), 403)
        # The platform's super admin may read it; a seller_pro reads no tenant's catalog.
        assert api.get(f"/v1/organisations/{organisation}", token=root).status_code == 200
        assert_problem(api.get("/v1/search/products", token=pro), 403)

    def test_seller_pro_is_had_only_on_the_platform(self, api: Api, root: str) -> None:
        acme = self.marketplace(api, root, "Acme")
        email = f"x-{uuid4().hex[:6]}@m.test"
        for body in (
            {
                "tenant_id": acme.tenant_id,
                "email": email,
                "password": PASSWORD,
                "role": "seller_pro",
            },
            {"email": email, "password": PASSWORD, "role": "buyer"},
            {"email": email, "password": PASSWORD},
        ):
            assert_problem(api.http.post("/v1/auth/signup", json=body), 422)
        made = api.post(
            f"/v1/tenants/{acme.tenant_id}/users",
            token=root,
            json={"email": email, "password": PASSWORD, "roles": ["seller_pro"]},
        )
        assert_problem(made, 422)


class MasterCatalogScenarios(OrganisationScenarios):
    def joined(self, api: Api, root: str) -> tuple[str, str, list[Any]]:
        """A business approved on two marketplaces: its token, its organisation, and them."""
        acme = self.marketplace(api, root, "Acme", moderation="auto")
        globex = self.marketplace(api, root, "Globex", currency="EUR")
        pro = self.seller_pro(api)
        organisation = self.organisation(api, pro)
        for m in (acme, globex):
            seller = self.join(api, pro, organisation, m.tenant_id)["seller_id"]
            assert api.post(f"/v1/sellers/{seller}/approve", token=m.admin_token).status_code == 200
        return pro, organisation, [acme, globex]

    def test_one_master_listed_on_two_marketplaces_sells_from_one_stock(
        self, api: Api, root: str
    ) -> None:
        pro, organisation, (acme, globex) = self.joined(api, root)
        base = f"/v1/organisations/{organisation}/products"
        made = api.post(
            base,
            token=pro,
            json={
                "title": "Desk lamp",
                "description": "Brass",
                "category": "lighting",
                "sku": "LAMP",
                "options": [{"name": "Colour", "values": ["Brass", "Black"]}],
                "variants": [
                    {"sku": "LAMP-BR", "options": {"Colour": "Brass"}},
                    {"sku": "LAMP-BK", "options": {"Colour": "Black"}},
                ],
            },
        )
        assert made.status_code == 201, made.text
        master = made.json()["id"]
        brass, black = (v["id"] for v in made.json()["variants"])
        stocked = api.post(
            f"{base}/{master}/variants/{brass}/stock",
            token=pro,
            json={"warehouse": "berlin", "on_hand": 3},
        )
        assert stocked.json() == {"available": 3}

        def publish(m: Any, amount: int, currency: str, **extra: Any) -> Any:
            return api.post(
                f"{base}/{master}/listings",
                token=pro,
                json={"tenant_id": m.tenant_id, "price": price(amount, currency), **extra},
            )

        assert_problem(publish(acme, 4000, "EUR"), 422)  # Acme sells in USD
        at_acme = publish(acme, 4000, "USD")
        assert at_acme.status_code == 201 and at_acme.json()["status"] == "active"
        assert_problem(publish(acme, 4000, "USD"), 409)
        at_globex = publish(globex, 3500, "EUR", variant_prices={black: price(3900, "EUR")})
        assert at_globex.json()["status"] == "pending_approval"  # Globex moderates
        acme_product, globex_product = at_acme.json()["product_id"], at_globex.json()["product_id"]
        approved = api.post(f"/v1/products/{globex_product}/approve", token=globex.admin_token)
        assert approved.status_code == 200

        def shown(m: Any, product: str, token: str) -> dict[str, Any]:
            body: dict[str, Any] = api.get(f"/v1/products/{product}", token=token).json()
            return body

        acme_buyer, globex_buyer = self.user(api, acme, "buyer"), self.user(api, globex, "buyer")
        seen = shown(acme, acme_product, acme_buyer)
        assert (seen["title"], seen["available"], seen["price"]) == ("Desk lamp", 3, price(4000))
        seen = shown(globex, globex_product, globex_buyer)
        assert {v["sku"]: (v["available"], v["price"]) for v in seen["variants"]} == {
            "LAMP-BR": (3, price(3500, "EUR")),
            "LAMP-BK": (0, price(3900, "EUR")),
        }
        # Another marketplace's listing is unknown here.
        assert_problem(api.get(f"/v1/products/{globex_product}", token=acme_buyer), 404)

        # Two units bought at Globex leave one at Acme; the last one sells once.
        variants = {v["sku"]: v["id"] for v in seen["variants"]}
        globex_cart = self.cart(api, globex_buyer, {variants["LAMP-BR"]: 2})
        assert self.checkout(api, globex_buyer, globex_cart).status_code == 201
        assert shown(acme, acme_product, acme_buyer)["available"] == 1
        acme_variant = next(
            v["id"]
            for v in shown(acme, acme_product, acme_buyer)["variants"]
            if v["sku"] == "LAMP-BR"
        )
        assert_problem(
            self.checkout(api, acme_buyer, self.cart(api, acme_buyer, {acme_variant: 2})), 409
        )
        last = self.checkout(api, acme_buyer, self.cart(api, acme_buyer, {acme_variant: 1}))
        assert last.status_code == 201, last.text
        assert shown(globex, globex_product, globex_buyer)["variants"][0]["available"] == 0

        # The organisation sees its one stock and where the master is listed.
        mine = api.get(f"{base}/{master}", token=pro).json()
        assert {v["sku"]: (v["on_hand"], v["available"]) for v in mine["variants"]} == {
            "LAMP-BR": (3, 0),
            "LAMP-BK": (0, 0),
        }
        assert {(x["tenant_id"], x["product_id"], x["status"]) for x in mine["listings"]} == {
            (acme.tenant_id, acme_product, "active"),
            (globex.tenant_id, globex_product, "active"),
        }
        assert [p["id"] for p in api.get(base, token=pro).json()["items"]] == [master]

        # An edit of the master flows to every listing: at once where the marketplace does not
        # moderate, after approval where it does.
        edited = api.request("PATCH", f"{base}/{master}", token=pro, json={"title": "Brass lamp"})
        assert edited.status_code == 200, edited.text
        assert shown(acme, acme_product, acme_buyer)["title"] == "Brass lamp"
        assert shown(globex, globex_product, globex_buyer)["title"] == "Desk lamp"
        approved = api.post(f"/v1/products/{globex_product}/approve", token=globex.admin_token)
        assert approved.status_code == 200, approved.text
        assert shown(globex, globex_product, globex_buyer)["title"] == "Brass lamp"
        assert api.get(f"{base}/{master}", token=pro).json()["title"] == "Brass lamp"

        # In a marketplace the listing is the seller's to price, not to rewrite or restock.
        as_acme = self.marketplace_token(api, pro, organisation, acme.tenant_id)
        patch = f"/v1/products/{acme_product}"
        assert_problem(api.request("PATCH", patch, token=as_acme, json={"title": "Mine"}), 409)
        repriced = api.request("PATCH", patch, token=as_acme, json={"price": price(4200)})
        assert repriced.status_code == 200, repriced.text
        restock = {"warehouse": "x", "on_hand": 50}
        assert_problem(
            api.post(f"{patch}/variants/{acme_variant}/stock", token=as_acme, json=restock), 409
        )

        # Withdrawn from Acme, it is gone there and stays at Globex.
        withdrawn = api.request("DELETE", f"{base}/{master}/listings/{acme.tenant_id}", token=pro)
        assert withdrawn.status_code == 204
        assert_problem(api.get(f"/v1/products/{acme_product}", token=acme_buyer), 404)
        assert shown(globex, globex_product, globex_buyer)["title"] == "Brass lamp"
        listings = api.get(f"{base}/{master}", token=pro).json()["listings"]
        assert [x["tenant_id"] for x in listings] == [globex.tenant_id]
        again = api.request("DELETE", f"{base}/{master}/listings/{acme.tenant_id}", token=pro)
        assert_problem(again, 404)

    def test_a_master_catalog_is_its_organisations_alone(self, api: Api, root: str) -> None:
        pro, organisation, (acme, _) = self.joined(api, root)
        base = f"/v1/organisations/{organisation}/products"
        body = {"title": "Lamp", "category": "lighting", "sku": "L-1"}
        master = api.created(api.post(base, token=pro, json=body))
        assert_problem(api.post(base, token=pro, json=body), 422)  # the sku is taken
        rival = self.seller_pro(api)
        self.organisation(api, rival, "Rival")
        listing = {"tenant_id": acme.tenant_id, "price": price(100)}
        stock = {"warehouse": "w", "on_hand": 1}
        for org in (organisation, str(uuid4())):
            path = f"/v1/organisations/{org}/products"
            assert_problem(api.post(path, token=rival, json=body), 404)
            for token in (rival,):
                assert_problem(
                    api.post(f"{path}/{master}/listings", token=token, json=listing), 404
                )
                assert_problem(
                    api.post(f"{path}/{master}/variants/{master}/stock", token=token, json=stock),
                    404,
                )
        # Its own organisation, but a marketplace it never joined, or a master it lacks.
        other = self.marketplace(api, root, "Other")
        assert_problem(
            api.post(
                f"{base}/{master}/listings",
                token=pro,
                json={"tenant_id": other.tenant_id, "price": price(100)},
            ),
            404,
        )
        assert_problem(api.post(f"{base}/{uuid4()}/listings", token=pro, json=listing), 404)
        # Another business reads and edits none of it, exactly as an unknown id.
        for org in (organisation, str(uuid4())):
            path = f"/v1/organisations/{org}/products"
            assert_problem(api.get(path, token=rival), 404)
            assert_problem(api.get(f"{path}/{master}", token=rival), 404)
            patch = api.request("PATCH", f"{path}/{master}", token=rival, json={"title": "X"})
            assert_problem(patch, 404)
        # A marketplace's own people are not the organisation's.
        assert_problem(api.post(base, token=acme.admin_token, json=body), 403)
