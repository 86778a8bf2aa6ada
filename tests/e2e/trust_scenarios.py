"""Trust at the edges, tried as a storefront that has read only API.md: it signs in the moment it
signed up, and an account or seller shut by the marketplace stops acting at once. No request here
sends X-Velora-Min-Position: nothing in these scenarios may depend on the read models."""

from __future__ import annotations

import asyncio
import time
from uuid import uuid4

import httpx
import jwt
import sqlalchemy as sa

from api.bootstrap import Container
from domain.roles import Role
from projections.schema import idempotency_keys
from tests.conftest import TEST_SECRET
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop
from tests.e2e.world import PASSWORD


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TrustScenarios(Shop):
    def test_a_buyer_signs_in_the_moment_they_sign_up(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        for i in range(12):
            email = f"fresh-{i}-{uuid4().hex[:6]}@m.test"
            body = {"tenant_id": m.tenant_id, "email": email, "password": PASSWORD}
            assert api.http.post("/v1/auth/signup", json=body).status_code == 201
            signed_in = api.http.post("/v1/auth/token", json=body)
            assert signed_in.status_code == 200, signed_in.text
            # and the token opens the routes at once, before any read model has the buyer
            assert api.http.post("/v1/carts", headers=bearer(signed_in.json()["access_token"]))

    def test_a_user_created_by_an_admin_signs_in_at_once(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        for role in ("seller", "buyer", "marketplace_admin"):
            email = f"{role}-{uuid4().hex[:6]}@m.test"
            created = api.http.post(
                f"/v1/tenants/{m.tenant_id}/users",
                headers=bearer(m.admin_token),
                json={"email": email, "password": PASSWORD, "roles": [role]},
            )
            assert created.status_code == 201, created.text
            signed_in = api.http.post(
                "/v1/auth/token",
                json={"email": email, "password": PASSWORD, "tenant_id": m.tenant_id},
            )
            assert signed_in.status_code == 200, signed_in.text
        wrong = api.http.post(
            "/v1/auth/token",
            json={"email": email, "password": PASSWORD + "x", "tenant_id": m.tenant_id},
        )
        assert_problem(wrong, 401)

    def test_an_erased_users_tokens_stop_at_once(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        token = self.user(api, m, "buyer")
        first = api.http.post("/v1/carts", headers={**bearer(token), "Idempotency-Key": "cart-1"})
        assert first.status_code == 201, first.text
        cart = first.json()["id"]
        assert api.http.request("DELETE", "/v1/me", headers=bearer(token)).status_code == 204
        assert_problem(api.http.get(f"/v1/carts/{cart}", headers=bearer(token)), 401)
        # A replay of the earlier POST under the same key is refused, not answered 201 again.
        replay = api.http.post("/v1/carts", headers={**bearer(token), "Idempotency-Key": "cart-1"})
        assert_problem(replay, 401)
        assert "Idempotent-Replayed" not in replay.headers

    def test_a_token_for_an_account_that_never_existed_opens_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        now = int(time.time())
        forged = jwt.encode(
            {
                "sub": str(uuid4()),
                "tenant_id": m.tenant_id,
                "roles": ["marketplace_admin"],
                "iat": now,
                "exp": now + 600,
                "iss": "velora",
            },
            TEST_SECRET,
            algorithm="HS256",
        )
        assert_problem(api.http.get(f"/v1/tenants/{m.tenant_id}", headers=bearer(forged)), 401)
        key = f"k-{uuid4()}"
        for _ in range(2):
            response = api.http.post(
                f"/v1/tenants/{m.tenant_id}/users",
                headers={**bearer(forged), "Idempotency-Key": key},
                json={"email": "x@m.test", "password": PASSWORD, "roles": ["buyer"]},
            )
            assert_problem(response, 401)
        assert kept_keys(container, key) == 0  # nothing kept for a caller who is nobody

    def test_a_suspended_seller_stops_acting_at_once(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        product = self.stocked(api, seller, 5, 1000)
        suspended = api.http.post(f"/v1/sellers/{seller_id}/suspend", headers=bearer(m.admin_token))
        assert suspended.status_code == 200, suspended.text
        edit = api.http.patch(
            f"/v1/products/{product}", headers=bearer(seller), json={"title": "Sneaky"}
        )
        assert_problem(edit, 403)
        stock = api.http.post(
            f"/v1/products/{product}/stock",
            headers=bearer(seller),
            json={"warehouse": "main", "on_hand": 99},
        )
        assert_problem(stock, 403)
        account = api.http.put(
            f"/v1/sellers/{seller_id}/payout-account",
            headers=bearer(seller),
            json={"account_id": "acct_elsewhere"},
        )
        assert_problem(account, 403)  # nor redirect what it is owed
        # Reinstated, the same token acts again.
        assert api.http.post(
            f"/v1/sellers/{seller_id}/approve", headers=bearer(m.admin_token)
        ).is_success
        edit = api.http.patch(
            f"/v1/products/{product}", headers=bearer(seller), json={"title": "Honest"}
        )
        assert edit.status_code == 200, edit.text

    def test_an_access_token_is_never_kept_for_replay(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        key = f"login-{uuid4()}"
        body = {"email": m.admin_email, "password": PASSWORD, "tenant_id": m.tenant_id}
        answers = [
            api.http.post("/v1/auth/token", json=body, headers={"Idempotency-Key": key})
            for _ in range(2)
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.text
            assert answer.headers["Cache-Control"] == "no-store"
            assert "Idempotent-Replayed" not in answer.headers
        assert answers[0].json()["access_token"] != answers[1].json()["access_token"]
        assert kept_keys(container, key) == 0

    def test_anonymous_idempotency_keys_belong_to_their_client(self, api: Api, root: str) -> None:
        """Two storefront visitors who happen to pick the same key do not see each other's
        answers: an anonymous key is scoped to the client's address."""
        m = self.marketplace(api, root)
        key = f"signup-{uuid4()}"

        async def sign_up(address: str, email: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=api.http.app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.post(
                    "/v1/auth/signup",
                    json={"tenant_id": m.tenant_id, "email": email, "password": PASSWORD},
                    headers={"Idempotency-Key": key},
                )

        one = asyncio.run(sign_up("203.0.113.1", f"one-{uuid4().hex[:6]}@m.test"))
        two = asyncio.run(sign_up("203.0.113.2", f"two-{uuid4().hex[:6]}@m.test"))
        assert one.status_code == two.status_code == 201, (one.text, two.text)
        assert one.json()["id"] != two.json()["id"]
        again = asyncio.run(sign_up("203.0.113.1", "ignored@m.test"))
        assert_problem(again, 422)  # the same client, the same key, another body


B, S, M, F, A, SA, SP = (role.value for role in Role)
# "anyone in tenant": the auditor reads only audit and ledger; a seller_pro is a platform user,
# in a tenant only with that tenant's marketplace token (a seller's).
IN_TENANT = {B, S, M, F, SA}
ANYONE = {B, S, M, F, A, SA, SP}  # API.md's "anyone": no role is asked for, a token is not needed
# API.md's "who" column, route by route, plus the grants the README's security section lists
# (finance and super admin read orders; finance reads a seller's profile).
WHO: list[tuple[str, str, set[str]]] = [
    ("POST", "/v1/tenants", {SA}),
    ("POST", "/v1/tenants/{tenant}/users", {SA, M}),
    ("PUT", "/v1/tenants/{tenant}/payout-schedule", {F}),
    ("PUT", "/v1/tenants/{tenant}/dispute-policy", {F}),
    ("PUT", "/v1/tenants/{tenant}/seller-signup", {M, SA}),
    ("POST", "/v1/tenants/{tenant}/publishable-keys", {M, SA}),
    ("GET", "/v1/tenants/{tenant}/publishable-keys", {M, SA}),
    ("DELETE", "/v1/tenants/{tenant}/publishable-keys/{id}", {M, SA}),
    ("PUT", "/v1/tenants/{tenant}/shipping-commission", {M, SA}),
    ("PUT", "/v1/products/{id}/options", {S}),
    ("POST", "/v1/products/{id}/variants", {S}),
    ("PATCH", "/v1/products/{id}/variants/{id}", {S}),
    ("DELETE", "/v1/products/{id}/variants/{id}", {S}),
    ("POST", "/v1/products/{id}/variants/{id}/stock", {S}),
    ("POST", "/v1/sellers/{id}/shipping-rates", {S}),
    ("GET", "/v1/sellers/{id}/shipping-rates", IN_TENANT),
    ("DELETE", "/v1/sellers/{id}/shipping-rates/{id}", {S}),
    ("GET", "/v1/carts/{id}/shipping-options?country=DE", {B}),
    ("POST", "/v1/auth/refresh", ANYONE),
    ("POST", "/v1/auth/logout", ANYONE),
    ("POST", "/v1/auth/password-reset", ANYONE),
    ("POST", "/v1/auth/password-reset/confirm", ANYONE),
    ("POST", "/v1/auth/verify-email", ANYONE),
    ("POST", "/v1/returns", {B}),
    ("POST", "/v1/returns/{id}/authorize", {S, M}),
    ("POST", "/v1/returns/{id}/reject", {S, M}),
    ("POST", "/v1/returns/{id}/ship", {B}),
    ("POST", "/v1/returns/{id}/receive", {S}),
    ("GET", "/v1/returns/{id}", {B, S, M}),
    ("GET", "/v1/returns", {B, S, M}),
    ("POST", "/v1/sellers", {S}),
    ("POST", "/v1/sellers/{id}/approve", {M}),
    ("POST", "/v1/sellers/{id}/reject", {M}),
    ("POST", "/v1/sellers/{id}/suspend", {M}),
    ("GET", "/v1/sellers/{id}", {S, M, F, SA}),
    ("GET", "/v1/sellers", {S, M, F, SA}),
    ("GET", "/v1/sellers/{id}/balance", {S, F}),
    ("POST", "/v1/products", {S}),
    ("POST", "/v1/products/{id}/approve", {M}),
    ("POST", "/v1/products/{id}/reject", {M}),
    ("PATCH", "/v1/products/{id}", {S}),
    ("POST", "/v1/products/{id}/stock", {S}),
    ("GET", "/v1/products/{id}", IN_TENANT),
    ("GET", "/v1/search/products", IN_TENANT),
    ("GET", "/v1/search/suggest?q=te", IN_TENANT),
    ("POST", "/v1/products/{id}/reviews", {B}),
    ("GET", "/v1/products/{id}/reviews", IN_TENANT),
    ("POST", "/v1/carts", {B}),
    ("PUT", "/v1/carts/{id}/items/{id}", {B}),
    ("GET", "/v1/carts/{id}", {B}),
    ("POST", "/v1/checkout", {B}),
    ("GET", "/v1/orders/{id}", {B, M, F, SA}),
    ("GET", "/v1/orders", {B, M, F, SA}),
    ("POST", "/v1/orders/{id}/cancel", {B, M}),
    ("GET", "/v1/seller-orders/{id}", {S, M, F, SA}),
    ("GET", "/v1/seller-orders", {S, M, F, SA}),
    ("POST", "/v1/seller-orders/{id}/ship", {S}),
    ("POST", "/v1/seller-orders/{id}/deliver", {S, M}),
    ("POST", "/v1/refunds", {B, M}),
    ("POST", "/v1/refunds/{id}/approve", {S, M}),
    ("POST", "/v1/refunds/{id}/reject", {S, M}),
    ("POST", "/v1/payouts/run", {F}),
    ("GET", "/v1/payouts", {S, F}),
    ("GET", "/v1/ledger/accounts", {F, A}),
    ("GET", "/v1/ledger/accounts/{code}/entries", {F, A}),
    ("GET", "/v1/ledger/trial-balance", {F, A}),
    ("GET", "/v1/ledger/journal", {F, A}),
    ("GET", "/v1/reports/sales", {F, M}),
    ("GET", "/v1/audit/streams/{id}/events", {A, SA}),
    ("GET", "/v1/audit/streams/{id}/state", {A, SA}),
    ("GET", "/v1/audit/verify", {A, SA}),
    ("GET", "/v1/me/export", {B, S, M, F, A, SA, SP}),
    ("GET", "/v1/ops/projections", {SA}),
    ("POST", "/v1/ops/projections/replay", {SA}),
    # docs/api-seller-pro.md
    ("POST", "/v1/organisations", {SP}),
    ("GET", "/v1/organisations/{id}", {SP, SA}),
    ("POST", "/v1/organisations/{id}/marketplaces", {SP}),
    ("POST", "/v1/organisations/{id}/marketplaces/{tenant}/token", {SP}),
    ("POST", "/v1/organisations/{id}/products", {SP}),
    ("GET", "/v1/organisations/{id}/products", {SP, SA}),
    ("GET", "/v1/organisations/{id}/products/{id}", {SP, SA}),
    ("PATCH", "/v1/organisations/{id}/products/{id}", {SP}),
    ("POST", "/v1/organisations/{id}/products/{id}/variants/{id}/stock", {SP}),
    ("POST", "/v1/organisations/{id}/products/{id}/listings", {SP}),
    ("DELETE", "/v1/organisations/{id}/products/{id}/listings/{tenant}", {SP}),
    ("POST", "/v1/organisations/{id}/products/{id}/images", {SP}),
    ("DELETE", "/v1/organisations/{id}/products/{id}/images/{id}", {SP}),
    ("PUT", "/v1/organisations/{id}/products/{id}/images/order", {SP}),
    ("GET", "/v1/organisations/{id}/seller-orders", {SP, SA}),
    ("GET", "/v1/organisations/{id}/balances", {SP, SA}),
    ("GET", "/v1/organisations/{id}/payouts", {SP, SA}),
    ("GET", "/v1/organisations/{id}/analytics", {SP, SA}),
    # API.md v1.2 "Webhooks to other apps"
    ("POST", "/v1/webhook-endpoints", {M}),
    ("GET", "/v1/webhook-endpoints", {M}),
    ("DELETE", "/v1/webhook-endpoints/{id}", {M}),
    ("GET", "/v1/webhook-endpoints/{id}/deliveries", {M}),
    ("POST", "/v1/webhook-endpoints/{id}/deliveries/{id}/retry", {M}),
]
# API.md v1.2: what a guest (a publishable key, no token) may call; on every other route of
# WHO it is 401, as a caller who sent nothing. tests/e2e/guest_scenarios.py walks every route.
GUESTS_MAY = {
    ("POST", "/v1/carts"),
    ("PUT", "/v1/carts/{id}/items/{id}"),
    ("GET", "/v1/carts/{id}"),
    ("GET", "/v1/carts/{id}/shipping-options?country=DE"),
    ("POST", "/v1/checkout"),
    ("GET", "/v1/orders/{id}"),
    ("GET", "/v1/sellers/{id}/shipping-rates"),
    ("GET", "/v1/products/{id}"),
    ("GET", "/v1/search/products"),
    ("GET", "/v1/search/suggest?q=te"),
    ("GET", "/v1/products/{id}/reviews"),
    ("GET", "/v1/sellers/{id}"),
}
# The routes that name a tenant's own things by id, beside the tenant: another marketplace's
# admin (or its guest) gets 404 for them, exactly as for an id nobody has.
TENANCY: list[tuple[str, str]] = [
    ("POST", "/v1/tenants/{tenant}/publishable-keys"),
    ("GET", "/v1/tenants/{tenant}/publishable-keys"),
    ("DELETE", "/v1/tenants/{tenant}/publishable-keys/{key}"),
]


class RoleScenarios(Shop):
    def test_every_route_answers_each_role_as_api_md_says(self, api: Api, root: str) -> None:
        """Each role calls each route (with ids nobody has): a role the route is not for gets
        403 before anything is looked up; a role it is for gets past the check (a 2xx, or the
        404 or 422 that the unknown ids and empty bodies earn)."""
        m = self.marketplace(api, root)
        tokens = {
            B: self.user(api, m, B),
            S: self.user(api, m, S),
            M: m.admin_token,
            F: self.platform_user(api, root, F),
            A: self.platform_user(api, root, A),
            SA: root,
            SP: self.platform_user(api, root, SP),
        }
        wrong: list[tuple[str, str, str, int]] = []
        for method, template, allowed in WHO:
            path = template.replace("{tenant}", m.tenant_id).replace("{code}", "cash")
            while "{id}" in path:
                path = path.replace("{id}", str(uuid4()), 1)
            for role, token in tokens.items():
                body = {} if method in ("POST", "PUT", "PATCH") else None
                status = api.http.request(
                    method, path, headers=bearer(token), json=body
                ).status_code
                refused = status == 403
                if refused == (role in allowed) or status in (401, 500):
                    wrong.append((method, template, role, status))
        assert wrong == [], wrong

    def test_a_guest_reaches_the_public_catalog_and_nothing_else(self, api: Api, root: str) -> None:
        """A publishable key and no token: past the check on the routes API.md opens to
        guests (a 2xx, or the 404 or 422 unknown ids earn), 401 on every other."""
        m = self.marketplace(api, root)
        made = api.http.post(
            f"/v1/tenants/{m.tenant_id}/publishable-keys",
            headers=bearer(m.admin_token),
            json={"name": "Web shop"},
        )
        assert made.status_code == 201, made.text
        key = {"X-Velora-Publishable-Key": made.json()["key"]}
        wrong: list[tuple[str, str, int]] = []
        for method, template, allowed in WHO:
            if allowed is ANYONE:
                continue  # no credentials are asked for: a key changes nothing there
            path = template.replace("{tenant}", m.tenant_id).replace("{code}", "cash")
            while "{id}" in path:
                path = path.replace("{id}", str(uuid4()), 1)
            body = {} if method in ("POST", "PUT", "PATCH") else None
            status = api.http.request(method, path, headers=key, json=body).status_code
            if (status == 401) == ((method, template) in GUESTS_MAY) or status in (403, 500):
                wrong.append((method, template, status))
        assert wrong == [], wrong

    def test_another_marketplaces_things_are_404_like_unknown_ones(
        self, api: Api, root: str
    ) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        made = api.http.post(
            f"/v1/tenants/{acme.tenant_id}/publishable-keys",
            headers=bearer(acme.admin_token),
            json={"name": "Web shop"},
        )
        assert made.status_code == 201, made.text
        for method, template in TENANCY:
            answers = []
            for tenant, key in ((acme.tenant_id, made.json()["id"]), (str(uuid4()), str(uuid4()))):
                path = template.replace("{tenant}", tenant).replace("{key}", key)
                body = {"name": "x"} if method == "POST" else None
                answer = api.http.request(
                    method, path, headers=bearer(globex.admin_token), json=body
                )
                answers.append(assert_problem(answer, 404)["title"])
            assert answers[0] == answers[1], template

    def test_an_auditor_may_ask_to_be_forgotten_like_any_user(self, api: Api, root: str) -> None:
        auditor = self.platform_user(api, root, "auditor")
        assert_problem(api.http.post("/v1/carts", headers=bearer(auditor)), 403)  # reads only
        erased = api.http.request("DELETE", "/v1/me", headers=bearer(auditor))
        assert erased.status_code == 204, erased.text
        assert_problem(api.http.get("/v1/ledger/accounts", headers=bearer(auditor)), 401)

    def test_finance_reads_a_sellers_profile_as_it_reads_its_balance(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        _, seller_id = self.approved_seller(api, m)
        finance = self.platform_user(api, root, "finance_admin")
        for path in (f"/v1/sellers/{seller_id}", f"/v1/sellers/{seller_id}/balance"):
            answer = api.get(path, token=finance)
            assert answer.status_code == 200, (path, answer.text)
        listed = api.get("/v1/sellers", token=finance, params={"tenant_id": m.tenant_id})
        assert seller_id in {s["seller_id"] for s in listed.json()["items"]}


class LeakScenarios(Shop):
    def test_a_product_hidden_from_buyers_is_404_on_the_cart_route_too(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)  # products wait for moderation
        seller, seller_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        pending = self.product(api, seller)
        cart = api.created(api.post("/v1/carts", token=buyer))
        line = {"quantity": 1}
        put = f"/v1/carts/{cart}/items/{{}}"
        assert_problem(api.http.put(put.format(pending), headers=bearer(buyer), json=line), 404)
        assert_problem(api.http.get(f"/v1/products/{pending}", headers=bearer(buyer)), 404)

        approved = self.product(api, seller)
        assert api.post(f"/v1/products/{approved}/approve", token=m.admin_token).is_success
        in_cart = api.request("PUT", put.format(approved), token=buyer, json=line)
        assert in_cart.status_code == 200, in_cart.text
        api.post(f"/v1/sellers/{seller_id}/suspend", token=m.admin_token)
        assert_problem(api.http.put(put.format(approved), headers=bearer(buyer), json=line), 404)
        # Already in the cart: the line stays, bare, with nothing of the hidden product shown.
        lines = api.get(f"/v1/carts/{cart}", token=buyer).json()["lines"]
        shown = {k: v for k, v in lines[0].items() if v is not None}
        # (its variant is the product itself, the id the buyer put in)
        assert (len(lines), shown) == (
            1,
            {"product_id": approved, "variant_id": approved, "quantity": 1},
        )

    def test_a_review_does_not_name_its_buyer_or_order(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, buyer, other = self.shop(api, root)
        product = self.stocked(api, seller, 3, 1_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        so = order["seller_orders"][0]["id"]
        ship = {"carrier": "DHL", "tracking_number": "JD1"}
        assert api.post(f"/v1/seller-orders/{so}/ship", token=seller, json=ship).is_success
        assert api.post(f"/v1/seller-orders/{so}/deliver", token=seller).is_success
        review = {"order_id": order["order_id"], "rating": 5, "body": "lovely"}
        api.created(api.post(f"/v1/products/{product}/reviews", token=buyer, json=review))
        items = api.get(f"/v1/products/{product}/reviews", token=other).json()["items"]
        assert [(i["rating"], i["body"]) for i in items] == [(5, "lovely")]
        assert not {"buyer_id", "order_id"} & set(items[0])


class InputScenarios(Shop):
    def test_control_characters_are_refused_everywhere_and_change_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        product = self.product(api, seller)
        head = container.log.head()
        body = {
            "title": "Tea\u0000pot",
            "description": "",
            "category": "kitchen",
            "sku": f"S-{uuid4().hex[:6]}",
            "price": {"amount": 100, "currency": "USD"},
        }
        refused = [
            api.http.post("/v1/products", headers=bearer(seller), json=body),  # as \u0000
            api.http.post("/v1/products", headers=bearer(seller), json={**body, "title": "A\x07"}),
            api.http.post(
                "/v1/products", headers=bearer(seller), json={**body, "category": "k\x1bit"}
            ),
            api.http.post(
                "/v1/auth/signup",
                json={"tenant_id": m.tenant_id, "email": "a\x00b@m.test", "password": PASSWORD},
            ),
            api.http.patch(
                f"/v1/products/{product}", headers=bearer(seller), json={"title": "Pot\x85"}
            ),
            api.http.get(f"/v1/products/{product}%00", headers=bearer(buyer)),
            api.http.get("/v1/search/products", headers=bearer(buyer), params={"q": "tea\x00"}),
        ]
        for response in refused:
            assert_problem(response, 422)
        assert container.log.head() == head
        # Line breaks and tabs in free text, and a backslash that only looks like an escape,
        # are text like any other.
        kept = api.http.post(
            "/v1/products",
            headers=bearer(seller),
            json={**body, "title": "Tea\\u0000pot", "description": "Cast iron.\n\tHeavy."},
        )
        assert kept.status_code == 201, kept.text

    def test_a_version_beyond_any_stream_is_422_not_500(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        answer = api.http.get(
            f"/v1/audit/streams/{m.tenant_id}/state",
            headers=bearer(root),
            params={"version": 2**63},
        )
        assert_problem(answer, 422)


def kept_keys(container: Container, key: str) -> int:
    with container.read_store.read() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(idempotency_keys)
            .where(idempotency_keys.c.idem_key == key)
        ).scalar_one()
    return int(count)
