"""GDPR: personal data sealed per person from the start, exported on request, and erased by
destroying the person's key while the books and the chain stay exactly as they were. Each
backend set runs these same scenarios."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from api.bootstrap import Container
from domain.personal import erased_marker
from projections.scope import TenantScope
from tests.e2e.audit_scenarios import SHIP
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import ADDRESS, Shop
from tests.e2e.world import PASSWORD, Marketplace

NAME = "Ada Lovelace-Byron"
STREET = "12 St James's Square"
ADDRESS_OF_ADA = {**ADDRESS, "name": NAME, "line1": STREET}
SHIPPED_TO = {**ADDRESS_OF_ADA, "line2": "", "region": ""}  # as checkout normalizes it
SECRET = "[secret]"  # what the audit trail shows in place of a secret


class PrivacyScenarios(Shop):
    def person(self, api: Api, m: Marketplace, role: str = "buyer") -> tuple[str, str, str]:
        """A user with an email of their own: (email, token, user id)."""
        email = f"ada-{uuid4().hex[:8]}@lovelace.test"
        user_id = api.created(
            api.post(
                f"/v1/tenants/{m.tenant_id}/users",
                token=m.admin_token,
                json={"email": email, "password": PASSWORD, "roles": [role]},
            )
        )
        return email, api.sign_in(email, PASSWORD, m.tenant_id), user_id

    def buys(self, api: Api, container: Container, seller: str, buyer: str) -> dict[str, Any]:
        product = self.stocked(api, seller, 5, 7_250, title="Engine")
        cart = self.cart(api, buyer, {product: 2})
        placed = api.post(
            "/v1/checkout",
            token=buyer,
            key=f"co-{uuid4()}",
            json={"cart_id": cart, "shipping_address": ADDRESS_OF_ADA},
        )
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        self.pay(api, container, order["order_id"])
        return order

    def world(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        m = self.marketplace(api, root, "Privacy", moderation="auto", hold_days=0)
        seller, _ = self.approved_seller(api, m)
        email, buyer, buyer_id = self.person(api, m)
        orders = [self.buys(api, container, seller, buyer) for _ in range(2)]
        so = orders[0]["seller_orders"][0]["id"]
        api.post(f"/v1/seller-orders/{so}/ship", token=seller, json=SHIP)
        api.post(f"/v1/seller-orders/{so}/deliver", token=seller)
        refund = {"seller_order_id": so, "reason": "a cog was missing"}
        refund["amount"] = {"amount": 500, "currency": "USD"}
        assert api.post("/v1/refunds", token=buyer, json=refund).status_code == 201
        return {"m": m, "email": email, "buyer": buyer, "buyer_id": buyer_id, "orders": orders}

    def test_personal_fields_are_sealed_in_the_stored_events_from_the_start(
        self, api: Api, root: str, container: Container
    ) -> None:
        w = self.world(api, root, container)
        stored = b"".join(bytes(n.state) for n in container.log.read_raw(0, 100_000))
        for secret in (w["email"], NAME, STREET):
            assert secret.encode() not in stored
        # Yet whoever may read the history reads them, opened with the person's key.
        order_id = w["orders"][0]["order_id"]
        placed = api.get(f"/v1/audit/streams/{order_id}/events", token=root).json()["items"][0]
        assert placed["data"]["shipping_address"] == SHIPPED_TO
        user = api.get(f"/v1/audit/streams/{w['buyer_id']}/events", token=root).json()["items"]
        assert user[0]["data"]["email"] == w["email"]

    def test_the_export_holds_everything_about_the_person_and_only_them(
        self, api: Api, root: str, container: Container
    ) -> None:
        w = self.world(api, root, container)
        other = self.user(api, w["m"], "buyer")
        exported = api.get("/v1/me/export", token=w["buyer"])
        assert exported.status_code == 200, exported.text
        data = exported.json()
        assert data["user"]["email"] == w["email"] and data["user"]["erased_at"] is None
        assert {o["order_id"] for o in data["orders"]} == {o["order_id"] for o in w["orders"]}
        assert all(o["shipping_address"] == SHIPPED_TO for o in data["orders"])
        assert all(o["total"] == {"amount": 14_500, "currency": "USD"} for o in data["orders"])
        assert len(data["carts"]) == 2 and data["carts"][0]["lines"]
        assert [r["reason"] for r in data["refunds"]] == ["a cog was missing"]
        assert data["refunds"][0]["amount"] == {"amount": 500, "currency": "USD"}
        assert data["seller_profiles"] == [] and data["reviews"] == []
        theirs = api.get("/v1/me/export", token=other).json()
        assert theirs["orders"] == [] and theirs["user"]["email"] != w["email"]
        assert_problem(api.get("/v1/me/export"), 401)

    def test_erasure_redacts_history_and_models_and_leaves_the_books_untouched(
        self, api: Api, root: str, container: Container
    ) -> None:
        w = self.world(api, root, container)
        tenant = w["m"].tenant_id
        order_ids = [o["order_id"] for o in w["orders"]]
        history_before = {
            o: api.get(f"/v1/audit/streams/{o}/events", token=root).json()["items"]
            for o in order_ids
        }
        verified_before = api.get("/v1/audit/verify", token=root).json()
        assert verified_before["chain_intact"] and verified_before["ledger_balanced"]

        erased = api.request("DELETE", "/v1/me", token=w["buyer"])
        assert erased.status_code == 204, erased.text
        # The person can no longer act or sign in, and a second erasure finds nobody.
        assert_problem(api.get("/v1/me/export", token=w["buyer"]), 401)
        assert_problem(api.request("DELETE", "/v1/me", token=w["buyer"]), 401)
        signed_in = api.http.post(
            "/v1/auth/token", json={"email": w["email"], "password": PASSWORD, "tenant_id": tenant}
        )
        assert_problem(signed_in, 401)

        # History replays with the personal fields redacted, and everything else as it was.
        marker = erased_marker(w["buyer_id"])
        redacted_address = {k: marker for k in SHIPPED_TO}
        for order_id in order_ids:
            after = api.get(f"/v1/audit/streams/{order_id}/events", token=root).json()["items"]
            before = history_before[order_id]
            assert [e["type"] for e in after] == [e["type"] for e in before]
            assert after[0]["data"]["shipping_address"] == redacted_address
            assert after[0]["data"]["guest_email"] == marker  # sealed, even when it was empty
            personal = {"shipping_address", "guest_email"}
            for was, now in zip(before, after, strict=True):
                was_data = {k: v for k, v in was["data"].items() if k not in personal}
                now_data = {k: v for k, v in now["data"].items() if k not in personal}
                assert now_data == was_data  # amounts, ids, times
            state = api.get(
                f"/v1/audit/streams/{order_id}/state", token=root, params={"version": 1}
            ).json()
            assert state["state"]["shipping_address"] == redacted_address
        user = api.get(f"/v1/audit/streams/{w['buyer_id']}/events", token=root).json()["items"]
        assert [e["type"] for e in user] == ["User.Registered", "User.Erased"]
        assert user[0]["data"]["email"] == marker

        # The read models forgot the person; the order and its money are still there.
        admin = w["m"].admin_token
        for order_id in order_ids:
            order = api.get(f"/v1/orders/{order_id}", token=admin).json()
            assert order["shipping_address"] == redacted_address
            assert order["total"] == {"amount": 14_500, "currency": "USD"}
        assert api.get(f"/v1/users/{w['buyer_id']}", token=admin).json()["email"] == marker
        scope = TenantScope.only(tenant)
        assert container.personal_data.export(scope, w["buyer_id"])["user"]["erased_at"]

        # A rebuild from the log agrees: the models match and come back redacted.
        rebuilt = container.operations.rebuild_models(["identity", "orders"])
        assert rebuilt.swapped and rebuilt.matched, rebuilt.differences
        order = api.get(f"/v1/orders/{order_ids[0]}", token=admin).json()
        assert order["shipping_address"] == redacted_address

        # The books and the chain are exactly as they were before the erasure.
        verified = api.get("/v1/audit/verify", token=root).json()
        assert verified["chain_intact"] and verified["ledger_balanced"]
        assert verified["trial_balance"] == verified_before["trial_balance"]
        stored = b"".join(bytes(n.state) for n in container.log.read_raw(0, 100_000))
        assert w["email"].encode() not in stored and NAME.encode() not in stored

    def test_no_secret_in_the_export_nor_in_an_erased_persons_history(
        self, api: Api, root: str, container: Container
    ) -> None:
        w = self.world(api, root, container)
        user = container.identity.read_or_none(UUID(w["buyer_id"]))
        assert user is not None
        password_hash = user.password_hash
        secrets = [password_hash, "$argon2", *(o["payment"]["client_secret"] for o in w["orders"])]
        exported = api.get("/v1/me/export", token=w["buyer"])
        assert exported.status_code == 200, exported.text
        assert [s for s in secrets if s in exported.text] == []

        assert api.request("DELETE", "/v1/me", token=w["buyer"]).status_code == 204
        marker = erased_marker(w["buyer_id"])
        auditor = self.platform_user(api, root, "auditor")
        stream = f"/v1/audit/streams/{w['buyer_id']}"
        for reader in (auditor, root):
            history = api.get(f"{stream}/events", token=reader)
            assert history.status_code == 200, history.text
            registered, erased = history.json()["items"]
            assert (registered["type"], erased["type"]) == ("User.Registered", "User.Erased")
            data = registered["data"]
            assert (data["email"], data["password_hash"], data["roles"]) == (
                marker,
                SECRET,
                ["buyer"],
            )
            then = api.get(f"{stream}/state", token=reader, params={"version": 1})
            assert then.json()["state"]["email"] == marker
            assert then.json()["state"]["password_hash"] == SECRET
            now = api.get(f"{stream}/state", token=reader).json()["state"]
            assert now["email"] == marker and now["erased"] is True and not now["password_hash"]
            for answer in (history, then):
                assert [s for s in [w["email"], *secrets] if s in answer.text] == []

    def test_a_sellers_shop_name_goes_with_them(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Shops", moderation="auto")
        _, token, user_id = self.person(api, m, "seller")
        seller_id = api.created(
            api.post("/v1/sellers", token=token, json={"display_name": NAME, "country": "GB"})
        )
        exported = api.get("/v1/me/export", token=token).json()
        assert [p["display_name"] for p in exported["seller_profiles"]] == [NAME]
        assert api.request("DELETE", "/v1/me", token=token).status_code == 204
        seller = api.get(f"/v1/sellers/{seller_id}", token=m.admin_token).json()
        assert seller["display_name"] == erased_marker(user_id)
        assert seller["status"] == "pending"
