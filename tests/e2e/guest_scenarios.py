"""Guests and publishable keys over HTTP, as a storefront that has read API.md (v1.2 "Guests
and publishable keys") uses them: a marketplace admin makes a key; the storefront sends it as
`X-Velora-Publishable-Key`, and nothing else, for visitors who have not signed in; they browse
products, variants, search, suggestions, categories, reviews and sellers' public profiles, see
no private field and nothing hidden, and get 401 everywhere else. Another marketplace's key sees
none of this one's ids; a deleted key is refused at once, in every API process; a token always
wins over a key. Limits per key and per address are `GuestLimitScenarios`, with tight limits of
their own (the other scenarios raise them, tests/conftest.py).

Subclasses provide `container` (migrated) and `api`; the limit scenarios provide `deploy`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container, build
from api.deps import current_caller, current_principal
from domain.accounts import digest
from domain.base import PLATFORM_TENANT_ID
from eventstore.context import CommandContext
from tests.conftest import TEST_SECRET
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop, price
from tests.e2e.world import PASSWORD, Marketplace

KEY_HEADER = "X-Velora-Publishable-Key"
# The routes a guest may call (API.md: products, variants on them, search, suggestions,
# categories, reviews, a seller's public profile, shipping options; its cart, with the cart
# token, its checkout, and its order, with the order token), as the app names them.
GUEST_ROUTES = {
    ("POST", "/v1/carts"),
    ("PUT", "/v1/carts/{cart_id}/items/{variant_id}"),
    ("GET", "/v1/carts/{cart_id}"),
    ("GET", "/v1/carts/{cart_id}/shipping-options"),
    ("POST", "/v1/checkout"),
    ("GET", "/v1/orders/{order_id}"),
    ("GET", "/v1/sellers/{seller_id}/shipping-rates"),
    ("GET", "/v1/products"),
    ("GET", "/v1/products/{product_id}"),
    ("GET", "/v1/products/{product_id}/reviews"),
    ("GET", "/v1/search/products"),
    ("GET", "/v1/search/suggest"),
    ("GET", "/v1/categories"),
    ("GET", "/v1/categories/{category_id}"),
    ("GET", "/v1/sellers/{seller_id}"),
}
# What a guest never sees of a product, or of a seller.
PRIVATE_PRODUCT = {"status", "seller_status", "revision"}
PUBLIC_SELLER = {"id", "display_name", "rating"}

Deploy = Callable[..., Container]


def guest(key: str) -> dict[str, str]:
    return {KEY_HEADER: key}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class GuestScenarios(Shop):
    # -- helpers: what a marketplace admin and a storefront do ---------------------------------

    def new_key(self, api: Api, m: Marketplace, name: str = "Web shop") -> tuple[str, str]:
        """Makes a key as the marketplace's admin: (its id, the key)."""
        made = api.post(
            f"/v1/tenants/{m.tenant_id}/publishable-keys", token=m.admin_token, json={"name": name}
        )
        assert made.status_code == 201, made.text
        body = made.json()
        return str(body["id"]), str(body["key"])

    def keys(self, api: Api, m: Marketplace, **params: str) -> list[dict[str, Any]]:
        listed = api.get(
            f"/v1/tenants/{m.tenant_id}/publishable-keys", token=m.admin_token, params=params
        )
        assert listed.status_code == 200, listed.text
        return list(listed.json()["items"])

    def storefront(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        """A marketplace whose catalog a storefront would show: a category, an approved seller
        with a T-shirt in two sizes and a teapot (reviewed by a buyer who had it delivered), and
        what must stay hidden: a seller still pending, a product waiting for moderation, and
        an edit of the teapot waiting too."""
        m = self.marketplace(api, root)  # products wait for moderation
        category = api.created(
            api.post("/v1/categories", token=m.admin_token, json={"name": "Kitchen"})
        )
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        tee = api.post(
            "/v1/products",
            token=seller,
            json={
                "title": "Linen tee",
                "description": "Breathes",
                "category": "Kitchen",
                "sku": f"TEE-{uuid4().hex[:6]}",
                "price": price(2000),
                "options": [{"name": "Size", "values": ["S", "M"]}],
                "variants": [
                    {"sku": f"TS-{uuid4().hex[:6]}", "options": {"Size": "S"}},
                    {"sku": f"TM-{uuid4().hex[:6]}", "options": {"Size": "M"}},
                ],
            },
        ).json()
        teapot = self.product(api, seller, category="Kitchen", title="Teapot")
        for product in (tee["id"], teapot):
            approved = api.post(f"/v1/products/{product}/approve", token=m.admin_token)
            assert approved.status_code == 200, approved.text
        stocked = api.post(
            f"/v1/products/{teapot}/stock", token=seller, json={"warehouse": "w", "on_hand": 5}
        )
        assert stocked.status_code == 200, stocked.text
        order = self.checkout(api, buyer, self.cart(api, buyer, {teapot: 1})).json()
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        ship = {"carrier": "DHL", "tracking_number": "JD1"}
        assert api.post(f"/v1/seller-orders/{so}/ship", token=seller, json=ship).is_success
        assert api.post(f"/v1/seller-orders/{so}/deliver", token=seller).is_success
        review = {"order_id": order["order_id"], "rating": 4, "body": "Pours well"}
        api.created(api.post(f"/v1/products/{teapot}/reviews", token=buyer, json=review))
        edit = api.request(
            "PATCH", f"/v1/products/{teapot}", token=seller, json={"title": "Secret new name"}
        )
        assert edit.json()["revision_status"] == "pending_approval", edit.text
        pending = self.product(api, seller, title="Not yet")
        waiting_token = self.user(api, m, "seller")
        waiting = api.created(
            api.post(
                "/v1/sellers", token=waiting_token, json={"display_name": "Wait", "country": "DE"}
            )
        )
        _, key = self.new_key(api, m)
        return {
            "m": m,
            "key": key,
            "category": category,
            "seller": seller,
            "seller_id": seller_id,
            "buyer": buyer,
            "tee": tee,
            "teapot": teapot,
            "pending": pending,
            "waiting_seller": waiting,
        }

    # -- keys -----------------------------------------------------------------------------------

    def test_an_admin_makes_a_key_sees_it_once_lists_and_deletes_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        made = api.post(
            f"/v1/tenants/{m.tenant_id}/publishable-keys",
            token=m.admin_token,
            json={"name": "Web shop"},
        )
        assert made.status_code == 201, made.text
        assert made.headers["Cache-Control"] == "no-store"
        key_id, key = made.json()["id"], made.json()["key"]
        assert set(made.json()) == {"id", "key"} and key.startswith("pk_")
        UUID(key_id)
        # The platform's super admin makes keys for a marketplace as its admin does.
        app_id = api.created(
            api.post(
                f"/v1/tenants/{m.tenant_id}/publishable-keys",
                token=root,
                json={"name": "  iOS app "},
            )
        )

        listed = self.keys(api, m)
        assert [(k["id"], k["name"], k["status"]) for k in listed] == [
            (key_id, "Web shop", "active"),
            (app_id, "iOS app", "active"),
        ]
        assert listed[0]["redacted"] == f"pk_…{key[-4:]}" and listed[0]["deleted_at"] is None
        secret = key.partition(".")[2]
        for text in (key, secret, digest(secret)):
            assert text not in str(listed)

        deleted = api.request(
            "DELETE", f"/v1/tenants/{m.tenant_id}/publishable-keys/{key_id}", token=m.admin_token
        )
        assert deleted.status_code == 204, deleted.text
        head = container.log.head()
        again = api.request(
            "DELETE", f"/v1/tenants/{m.tenant_id}/publishable-keys/{key_id}", token=m.admin_token
        )
        assert again.status_code == 204 and container.log.head() == head  # nothing recorded
        after = {k["id"]: k for k in self.keys(api, m)}
        assert after[key_id]["status"] == "deleted" and after[key_id]["deleted_at"] is not None
        assert after[app_id]["status"] == "active"
        assert [k["id"] for k in self.keys(api, m, status="active")] == [app_id]
        assert [k["id"] for k in self.keys(api, m, status="deleted")] == [key_id]
        paged = api.get(
            f"/v1/tenants/{m.tenant_id}/publishable-keys",
            token=m.admin_token,
            params={"limit": 1},
        ).json()
        assert [k["id"] for k in paged["items"]] == [key_id] and paged["next_cursor"]

        # A request repeated with its Idempotency-Key makes no second key: it answers the one
        # the first made (not kept anywhere: derived again), and another key makes another.
        path = f"/v1/tenants/{m.tenant_id}/publishable-keys"
        once = api.post(path, token=m.admin_token, key="make-web", json={"name": "Web"}).json()
        twice = api.post(path, token=m.admin_token, key="make-web", json={"name": "Web"}).json()
        assert once == twice
        assert (
            api.post(path, token=m.admin_token, key="make-app", json={"name": "Web"}).json()["id"]
            != once["id"]
        )
        api.request("DELETE", f"{path}/{once['id']}", token=m.admin_token)
        gone = api.post(path, token=m.admin_token, key="make-web", json={"name": "Web"})
        assert gone.json()["id"] == once["id"]  # still that one key, deleted: nothing new

    def test_a_deleted_key_is_401_at_once_in_every_api_process(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        key_id, key = self.new_key(api, m)
        # A second API process on the same stores, as `velora serve --workers 2` runs one.
        other = build(container.settings)
        try:
            with TestClient(create_app(other)) as second:
                for http in (api.http, second):
                    assert http.get("/v1/categories", headers=guest(key)).status_code == 200
                deleted = api.request(
                    "DELETE",
                    f"/v1/tenants/{m.tenant_id}/publishable-keys/{key_id}",
                    token=m.admin_token,
                )
                assert deleted.status_code == 204, deleted.text
                # No X-Velora-Min-Position, no wait: the key is checked against the log.
                for http in (api.http, second):
                    for path in ("/v1/categories", "/v1/search/products"):
                        answer = http.get(path, headers=guest(key))
                        body = assert_problem(answer, 401)
                        assert answer.headers["WWW-Authenticate"] == "Bearer"
                        assert key not in body["detail"]
        finally:
            other.close()

    def test_only_a_marketplaces_admins_manage_its_keys_and_another_marketplaces_are_404(
        self, api: Api, root: str, container: Container
    ) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        acme_key, _ = self.new_key(api, acme)
        globex_key, _ = self.new_key(api, globex)
        others = [self.user(api, acme, "buyer"), self.user(api, acme, "seller")]
        finance = self.platform_user(api, root, "finance_admin")
        head = container.log.head()
        unknown_tenant, unknown_key = str(uuid4()), str(uuid4())
        for tenant in (acme.tenant_id, unknown_tenant):
            path = f"/v1/tenants/{tenant}/publishable-keys"
            assert_problem(api.post(path, token=globex.admin_token, json={"name": "x"}), 404)
            assert_problem(api.get(path, token=globex.admin_token), 404)
            for key_id in (acme_key, unknown_key):
                assert_problem(
                    api.request("DELETE", f"{path}/{key_id}", token=globex.admin_token), 404
                )
        # Its own tenant in the path does not open another's key, for its admin or for root.
        for token in (globex.admin_token, root):
            assert_problem(
                api.request(
                    "DELETE",
                    f"/v1/tenants/{globex.tenant_id}/publishable-keys/{acme_key}",
                    token=token,
                ),
                404,
            )
        assert_problem(api.get(f"/v1/tenants/{unknown_tenant}/publishable-keys", token=root), 404)
        path = f"/v1/tenants/{acme.tenant_id}/publishable-keys"
        for token in (*others, finance):
            assert_problem(api.post(path, token=token, json={"name": "x"}), 403)
            assert_problem(api.get(path, token=token), 403)
            assert_problem(api.request("DELETE", f"{path}/{acme_key}", token=token), 403)
        assert container.log.head() == head
        assert [k["id"] for k in self.keys(api, globex)] == [globex_key]

    def test_bad_input_is_a_4xx_problem_and_stores_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        key_id, _ = self.new_key(api, m)
        path = f"/v1/tenants/{m.tenant_id}/publishable-keys"
        head = container.log.head()
        for body in (
            {},
            {"name": ""},
            {"name": "   "},
            {"name": "x" * 101},
            {"name": 7},
            {"name": None},
            {"name": "Web", "extra": 1},
            {"name": "We\u0000b"},
            [],
        ):
            answer = api.post(path, token=m.admin_token, json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert_problem(answer, 422)
        assert_problem(api.post(path, token=m.admin_token, content="{not json"), 400)
        for bad in ("not-a-uuid", "1" * 40):
            assert_problem(api.request("DELETE", f"{path}/{bad}", token=m.admin_token), 422)
            assert_problem(
                api.post(
                    f"/v1/tenants/{bad}/publishable-keys", token=m.admin_token, json={"name": "x"}
                ),
                422,
            )
        assert_problem(api.get(path, token=m.admin_token, params={"status": "gone"}), 422)
        assert_problem(api.get(path, token=m.admin_token, params={"limit": 0}), 422)
        assert_problem(api.get(path, token=m.admin_token, params={"cursor": "zz"}), 422)
        assert container.log.head() == head
        assert [k["id"] for k in self.keys(api, m)] == [key_id]

    def test_no_key_or_digest_leaves_through_the_audit_trail(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        key_id, key = self.new_key(api, m)
        assert api.request(
            "DELETE", f"/v1/tenants/{m.tenant_id}/publishable-keys/{key_id}", token=m.admin_token
        ).is_success
        secret = key.partition(".")[2]
        secrets = [key, secret, digest(secret)]
        auditor = self.platform_user(api, root, "auditor")
        for reader in (auditor, root):
            history = api.get(f"/v1/audit/streams/{key_id}/events", token=reader)
            assert history.status_code == 200, history.text
            assert not [s for s in secrets if s in history.text]
            items = history.json()["items"]
            assert [e["type"] for e in items] == [
                "PublishableKey.Created",
                "PublishableKey.Deleted",
            ]
            assert items[0]["data"]["key_digest"] == "[secret]"
            for params in ({}, {"version": 1}):
                state = api.get(f"/v1/audit/streams/{key_id}/state", token=reader, params=params)
                assert state.status_code == 200, state.text
                assert not [s for s in secrets if s in state.text]

    # -- guests ---------------------------------------------------------------------------------

    def test_a_guest_browses_the_public_catalog_with_only_the_key(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.storefront(api, root, container)
        key, tee, teapot = shop["key"], shop["tee"], shop["teapot"]
        as_guest = guest(key)

        seen = api.get(f"/v1/products/{tee['id']}", headers=as_guest)
        assert seen.status_code == 200, seen.text
        product = seen.json()
        assert not PRIVATE_PRODUCT & set(product)
        assert product["title"] == "Linen tee" and product["seller_id"] == shop["seller_id"]
        assert product["options"] == [{"name": "Size", "values": ["S", "M"]}]
        assert sorted(v["options"]["Size"] for v in product["variants"]) == ["M", "S"]
        assert {"id", "sku", "price", "available"} <= set(product["variants"][0])

        # The approved text, never the edit waiting for moderation.
        pot = api.get(f"/v1/products/{teapot}", headers=as_guest).json()
        assert pot["title"] == "Teapot" and "Secret new name" not in str(pot)
        assert not PRIVATE_PRODUCT & set(pot)
        assert pot["rating"] == {"average": 4.0, "count": 1}

        listed = api.get("/v1/products", headers=as_guest).json()["items"]
        assert {p["id"] for p in listed} == {tee["id"], teapot}
        assert all(not PRIVATE_PRODUCT & set(p) for p in listed)

        found = api.get("/v1/search/products", headers=as_guest, params={"q": "teapot"}).json()
        assert [hit["id"] for hit in found["items"]] == [teapot]
        everything = api.get("/v1/search/products", headers=as_guest).json()
        assert {hit["id"] for hit in everything["items"]} == {tee["id"], teapot}
        suggested = api.get("/v1/search/suggest", headers=as_guest, params={"q": "Te"}).json()
        assert "Teapot" in suggested["suggestions"]

        tree = api.get("/v1/categories", headers=as_guest).json()["items"]
        assert [(c["id"], c["name"]) for c in tree] == [(shop["category"], "Kitchen")]
        one = api.get(f"/v1/categories/{shop['category']}", headers=as_guest)
        assert one.status_code == 200 and one.json()["name"] == "Kitchen"

        reviews = api.get(f"/v1/products/{teapot}/reviews", headers=as_guest).json()["items"]
        assert [(r["rating"], r["body"]) for r in reviews] == [(4, "Pours well")]
        assert not {"buyer_id", "order_id"} & set(reviews[0])

        profile = api.get(f"/v1/sellers/{shop['seller_id']}", headers=as_guest)
        assert profile.status_code == 200, profile.text
        assert set(profile.json()) == PUBLIC_SELLER
        assert profile.json()["id"] == shop["seller_id"]
        assert profile.json()["rating"]["count"] == 1

    def test_a_guest_never_sees_what_is_hidden(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.storefront(api, root, container)
        m, as_guest = shop["m"], guest(shop["key"])
        pending, teapot = shop["pending"], shop["teapot"]
        for path in (f"/v1/products/{pending}", f"/v1/products/{pending}/reviews"):
            assert_problem(api.get(path, headers=as_guest), 404)
        assert_problem(api.get(f"/v1/sellers/{shop['waiting_seller']}", headers=as_guest), 404)
        # Hidden reviews are the moderators': a guest is told to sign in.
        assert_problem(
            api.get(f"/v1/products/{teapot}/reviews", headers=as_guest, params={"hidden": True}),
            401,
        )
        for status in ("pending_approval", "rejected"):
            listed = api.get("/v1/products", headers=as_guest, params={"status": status})
            assert listed.json()["items"] == []
        queue = api.get(
            "/v1/products", headers=as_guest, params={"revision_status": "pending_approval"}
        )
        assert queue.json()["items"] == []

        # A suspended seller's products and profile leave a guest's sight, and come back.
        seller_id = shop["seller_id"]
        assert api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token).is_success
        assert_problem(api.get(f"/v1/products/{teapot}", headers=as_guest), 404)
        assert_problem(api.get(f"/v1/products/{teapot}/reviews", headers=as_guest), 404)
        assert_problem(api.get(f"/v1/sellers/{seller_id}", headers=as_guest), 404)
        assert api.get("/v1/products", headers=as_guest).json()["items"] == []
        assert api.get("/v1/search/products", headers=as_guest).json()["items"] == []
        assert api.post(f"/v1/sellers/{seller_id}/approve", token=m.admin_token).is_success
        assert api.get(f"/v1/products/{teapot}", headers=as_guest).status_code == 200

    def test_a_guest_gets_401_wherever_no_credentials_get_401(self, api: Api, root: str) -> None:
        """Every route of the app, with whatever ids: a key opens nothing that sending nothing
        does not open, except the public catalog's routes, which it opens."""
        m = self.marketplace(api, root)
        _, key = self.new_key(api, m)
        wrong: list[tuple[str, str, int, int]] = []
        for route in api.http.app.routes:  # type: ignore[attr-defined]
            if not isinstance(route, APIRoute):
                continue
            path = route.path.replace("{key:path}", "x")
            while "{" in path:
                start, end = path.index("{"), path.index("}")
                path = path[:start] + str(uuid4()) + path[end + 1 :]
            for method in sorted(route.methods):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                nothing = api.http.request(method, path, json=body).status_code
                with_key = api.http.request(method, path, json=body, headers=guest(key))
                if (method, route.path) in GUEST_ROUTES:
                    if nothing != 401 or with_key.status_code in (401, 403, 500):
                        wrong.append((method, route.path, nothing, with_key.status_code))
                elif with_key.status_code != nothing:
                    wrong.append((method, route.path, nothing, with_key.status_code))
                elif nothing == 401:
                    assert_problem(with_key, 401)
        assert wrong == [], wrong

    def test_every_route_that_takes_a_guest_checks_the_permission_table(self, api: Api) -> None:
        """`Scope` and `ReadAfter` accept a guest; a route that takes either must also take
        `Allowed` (which lets a guest through only where the table names it) or `CurrentUser`
        (which never does), so a new route cannot open to guests by forgetting a check."""
        loose = []
        for route in api.http.app.routes:  # type: ignore[attr-defined]
            if not isinstance(route, APIRoute):
                continue
            calls = set()
            pending = list(route.dependant.dependencies)
            while pending:
                dependency = pending.pop()
                calls.add(dependency.call)
                pending.extend(dependency.dependencies)
            if current_caller not in calls:
                continue
            checked = current_principal in calls or any(
                type(call).__name__ == "Allowed" for call in calls
            )
            if not checked:
                loose.append(route.path)
        assert loose == []

    def test_another_marketplaces_key_never_sees_this_ones_ids(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.storefront(api, root, container)
        other = self.marketplace(api, root, "Globex")
        api.created(api.post("/v1/categories", token=other.admin_token, json={"name": "Garden"}))
        _, foreign = self.new_key(api, other)
        as_foreigner = guest(foreign)
        for path in (
            f"/v1/products/{shop['teapot']}",
            f"/v1/products/{shop['tee']['id']}",
            f"/v1/products/{shop['teapot']}/reviews",
            f"/v1/categories/{shop['category']}",
            f"/v1/sellers/{shop['seller_id']}",
        ):
            foreign_answer = assert_problem(api.get(path, headers=as_foreigner), 404)
            unknown = path.replace(path.split("/")[3], str(uuid4()))
            unknown_answer = assert_problem(api.get(unknown, headers=as_foreigner), 404)
            assert foreign_answer["title"] == unknown_answer["title"]
        assert api.get("/v1/products", headers=as_foreigner).json()["items"] == []
        found = api.get("/v1/search/products", headers=as_foreigner, params={"q": "teapot"})
        assert found.json()["items"] == [] and found.json()["total"] == 0
        suggested = api.get("/v1/search/suggest", headers=as_foreigner, params={"q": "Te"})
        assert suggested.json()["suggestions"] == []
        tree = api.get("/v1/categories", headers=as_foreigner).json()["items"]
        assert [c["name"] for c in tree] == ["Garden"]
        theirs = api.get(
            "/v1/categories", headers=as_foreigner, params={"tenant_id": shop["m"].tenant_id}
        )
        assert "Kitchen" not in theirs.text

    def test_a_bad_key_is_401_and_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        key_id, key = self.new_key(api, m)
        _, other_key = self.new_key(api, m, "App")
        deleted_id, deleted = self.new_key(api, m, "Old")
        api.request(
            "DELETE",
            f"/v1/tenants/{m.tenant_id}/publishable-keys/{deleted_id}",
            token=m.admin_token,
        )
        secret = key.partition(".")[2]
        head = container.log.head()
        bad = [
            "",
            "pk_",
            "pk_nonsense",
            secret,  # the secret alone
            key.removeprefix("pk_"),  # no prefix
            key + "x",
            key[:-1],
            f"pk_{uuid4().hex}.{secret}",  # an unknown key id, a real secret
            f"pk_{UUID(key_id).hex}.{other_key.partition('.')[2]}",  # another key's secret
            f"pk_{m.tenant_id.replace('-', '')}.{secret}",  # the tenant's id
            deleted,
            "pk_" + "a" * 10_000,
            "sk_" + key.removeprefix("pk_"),
        ]
        for text in bad:
            for path in ("/v1/categories", f"/v1/products/{uuid4()}", "/v1/me"):
                answer = api.http.get(path, headers=guest(text))
                body = assert_problem(answer, 401)
                assert not text or text not in body["detail"]
        # Header values that are not text at all are as bad.
        raw = api.http.get("/v1/categories", headers={KEY_HEADER: "pk_\u00e9".encode()})
        assert_problem(raw, 401)
        assert container.log.head() == head
        assert api.http.get("/v1/categories", headers=guest(key)).status_code == 200

    def test_no_token_makes_its_bearer_a_guest(
        self, api: Api, root: str, container: Container
    ) -> None:
        """`guest` is given by a key alone: a token signed with Velora's own key that claims it,
        for a real account, is refused, not taken for a guest of the account's tenant."""
        user_id = str(container.tokens.verify(root).user_id)
        now = int(time.time())
        claims = {"sub": user_id, "tenant_id": str(PLATFORM_TENANT_ID), "iat": now}
        claims |= {"exp": now + 600, "iss": "velora", "roles": ["guest"]}
        forged = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
        for path in ("/v1/categories", "/v1/search/suggest?q=a", "/v1/me"):
            assert_problem(api.get(path, token=forged), 401)

    def test_a_bearer_token_with_a_key_is_the_bearer_alone(
        self, api: Api, root: str, container: Container
    ) -> None:
        shop = self.storefront(api, root, container)
        m, buyer, seller, key = shop["m"], shop["buyer"], shop["seller"], shop["key"]
        other = self.marketplace(api, root, "Globex")
        _, foreign = self.new_key(api, other)
        teapot = shop["teapot"]
        for extra in (key, foreign, "pk_bad", ""):
            for token, path in (
                (buyer, f"/v1/products/{teapot}"),
                (seller, f"/v1/products/{teapot}"),  # its own: the edit awaiting moderation
                (m.admin_token, f"/v1/products/{shop['pending']}"),
                (m.admin_token, f"/v1/sellers/{shop['seller_id']}"),
                (buyer, "/v1/me"),
                (buyer, "/v1/orders"),
            ):
                alone = api.get(path, token=token)
                both = api.get(path, token=token, headers=guest(extra))
                assert alone.status_code == both.status_code == 200, (path, both.text)
                assert alone.json() == both.json(), path
        own = api.get(f"/v1/products/{teapot}", token=seller, headers=guest(foreign)).json()
        assert own["revision"]["title"] == "Secret new name" and own["status"] == "active"
        # A buyer with a key still does what buyers do, and a guest's limits are not a buyer's.
        cart = api.post("/v1/carts", token=buyer, headers=guest(key))
        assert cart.status_code == 201, cart.text
        # A buyer is not given the guests' public seller profile: v1 answers it 403.
        assert_problem(
            api.get(f"/v1/sellers/{shop['seller_id']}", token=buyer, headers=guest(key)), 403
        )
        # A bad token is refused even with a good key: the token is what the request is.
        assert_problem(api.get("/v1/categories", token="not-a-jwt", headers=guest(key)), 401)


class GuestLimitScenarios:
    """The real limits on guests (the other scenarios raise them). Subclasses provide
    `deploy`: a migrated container on their backends with the given settings."""

    @contextmanager
    def served(self, deploy: Deploy, **limits: str) -> Iterator[tuple[TestClient, str, Any]]:
        """A marketplace with a key: the client, the key, and a way to make another key."""
        container = deploy(**limits)
        ctx = CommandContext.system("test")
        tenant = container.identity.register_tenant(
            ctx, name="Tight", currency="USD", commission_bps=0, escrow_hold_days=0
        ).id

        def new_key() -> str:
            return container.storefront.create_key(
                ctx,
                tenant,
                tenant,
                "shop",
                origin=uuid4().hex,
                secret_of=lambda key_id: container.tokens.derived_secret("publishable_key", key_id),
            ).key

        with TestClient(create_app(container, run_projections=True)) as http:
            yield http, new_key(), new_key

    def from_address(self, http: TestClient, address: str, key: str) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=http.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get("/v1/categories", headers=guest(key))

        return asyncio.run(call())

    def test_a_guest_address_is_limited_whatever_the_key_even_a_bad_one(
        self, deploy: Deploy
    ) -> None:
        limits = {"rate_guest_per_address": "4/minute", "rate_guest_per_key": "1000/minute"}
        with self.served(deploy, **limits) as (http, key, new_key):
            answers = [self.from_address(http, "203.0.113.7", key) for _ in range(2)]
            answers += [self.from_address(http, "203.0.113.7", "pk_guess") for _ in range(2)]
            assert [a.status_code for a in answers] == [200, 200, 401, 401]
            for text in (key, new_key(), "pk_guess"):
                limited = self.from_address(http, "203.0.113.7", text)
                assert_problem(limited, 429)
                assert int(limited.headers["Retry-After"]) >= 1
            # Another address is counted on its own.
            assert self.from_address(http, "203.0.113.8", key).status_code == 200

    def test_a_keys_guests_are_limited_together_from_every_address(self, deploy: Deploy) -> None:
        limits = {"rate_guest_per_address": "1000/minute", "rate_guest_per_key": "5/minute"}
        with self.served(deploy, **limits) as (http, key, new_key):
            statuses = [
                self.from_address(http, f"203.0.113.{i}", key).status_code for i in range(5)
            ]
            assert statuses == [200] * 5
            limited = self.from_address(http, "198.51.100.1", key)
            assert_problem(limited, 429)
            assert int(limited.headers["Retry-After"]) >= 1
            # The storefront's other key, and signed-in users, are not held back by it.
            assert self.from_address(http, "198.51.100.1", new_key()).status_code == 200
            root = f"root-{uuid4().hex[:8]}@velora.dev"
            container: Container = http.app.state.container  # type: ignore[attr-defined]
            container.identity.ensure_superuser(
                CommandContext.system("test"), email=root, password=PASSWORD
            )
            token = http.post("/v1/auth/token", json={"email": root, "password": PASSWORD})
            bearer_only = http.get("/v1/tenants", headers=bearer(token.json()["access_token"]))
            assert bearer_only.status_code == 200
