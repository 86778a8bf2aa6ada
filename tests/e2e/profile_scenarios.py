"""Profiles and saved addresses (issue 18, point 1): a person's own details, an address book
with one default, checkout to a saved address, and all of it sealed, exported and erased as
personal data. Each backend set runs these same scenarios."""

from __future__ import annotations

import threading
from typing import Any
from uuid import uuid4

from api.bootstrap import Container
from domain.personal import erased_marker
from projections.scope import TenantScope
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop
from tests.e2e.world import PASSWORD, Marketplace

HOME = {
    "name": "Grace Hopper",
    "line1": "1 Navy Yard",
    "city": "Arlington",
    "region": "VA",
    "postal_code": "22202",
    "country": "US",
}
WORK = {
    "name": "Grace Hopper",
    "line1": "2 Harvard Way",
    "city": "Cambridge",
    "postal_code": "02138",
    "country": "US",
}


def as_saved(address: dict[str, str]) -> dict[str, str]:
    """An address as the book keeps it: every field, the optional ones empty."""
    return {"line2": "", "region": "", **address}


class ProfileScenarios(Shop):
    def signed_up(self, api: Api, m: Marketplace) -> tuple[str, str]:
        """A buyer who signed up themselves: (token, user id). No position travels: a storefront
        signs up, signs in and reads its profile."""
        email = f"grace-{uuid4().hex[:8]}@navy.test"
        body = {"tenant_id": m.tenant_id, "email": email, "password": PASSWORD}
        user_id = api.created(api.http.post("/v1/auth/signup", json=body))
        return api.sign_in(email, PASSWORD, m.tenant_id), user_id

    def addresses(self, api: Api, token: str) -> list[dict[str, Any]]:
        response = api.get("/v1/me/addresses", token=token)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def test_a_fresh_buyer_reads_and_changes_their_profile(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Profiles")
        token, user_id = self.signed_up(api, m)
        # Right after signing up, with no X-Velora-Min-Position: the profile is there, blank.
        fresh = api.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert fresh.status_code == 200, fresh.text
        me = fresh.json()
        assert me["user_id"] == user_id and me["roles"] == ["buyer"]
        assert me["display_name"] is None and me["phone"] is None and me["locale"] is None
        assert me["marketing_opt_in"] is False and me["marketing_changed_at"] is None

        changes = {"display_name": "Grace", "phone": "+1 703 555 0100", "locale": "en-US"}
        changed = api.request("PATCH", "/v1/me", token=token, json=changes)
        assert changed.status_code == 200, changed.text
        assert int(changed.headers["X-Velora-Position"]) > 0
        me = api.get("/v1/me", token=token).json()
        assert (me["display_name"], me["phone"], me["locale"]) == ("Grace", "+17035550100", "en-US")
        assert me["marketing_opt_in"] is False and me["marketing_changed_at"] is None

        # Consent is recorded with its time; what is left out stays; null clears a field.
        api.request("PATCH", "/v1/me", token=token, json={"marketing_opt_in": True})
        api.request("PATCH", "/v1/me", token=token, json={"phone": None})
        me = api.get("/v1/me", token=token).json()
        assert me["marketing_opt_in"] is True and me["marketing_changed_at"] is not None
        assert me["phone"] is None and me["display_name"] == "Grace"

    def test_a_fresh_buyers_profile_waits_for_read_models_that_lag(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Lagging")
        # The projectors stop (a slow worker, say): the sign-up is in the log, not yet in the
        # read models. GET /v1/me, sent with no position as a storefront sends it, waits for them.
        container.stop_projections()
        try:
            token, user_id = self.signed_up(api, m)
            threading.Timer(0.5, container.start_projections).start()
            fresh = api.http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        finally:
            if not container.projectors or not container.projectors.running:
                container.start_projections()
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["user_id"] == user_id

    def test_the_address_book_keeps_one_default(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Addresses")
        token = self.user(api, m, "buyer")
        assert self.addresses(api, token) == []
        home = api.created(api.post("/v1/me/addresses", token=token, json=HOME))
        # The first address saved is the default.
        [saved] = self.addresses(api, token)
        assert saved["id"] == home and saved["default"] is True
        assert {k: saved[k] for k in as_saved(HOME)} == as_saved(HOME)

        work = api.created(
            api.post("/v1/me/addresses", token=token, json={**WORK, "default": True})
        )
        book = {a["id"]: a for a in self.addresses(api, token)}
        assert [a["id"] for a in self.addresses(api, token)] == [home, work]
        assert (book[home]["default"], book[work]["default"]) == (False, True)

        moved = {"line1": "3 Navy Yard", "default": True}
        assert api.request("PATCH", f"/v1/me/addresses/{home}", token=token, json=moved).is_success
        book = {a["id"]: a for a in self.addresses(api, token)}
        assert book[home]["line1"] == "3 Navy Yard" and book[home]["city"] == "Arlington"
        assert (book[home]["default"], book[work]["default"]) == (True, False)

        # Removing the default leaves none; `default: false` on the default leaves none too.
        assert api.request("DELETE", f"/v1/me/addresses/{home}", token=token).status_code == 204
        assert [(a["id"], a["default"]) for a in self.addresses(api, token)] == [(work, False)]
        again = {"default": True}
        api.request("PATCH", f"/v1/me/addresses/{work}", token=token, json=again)
        api.request("PATCH", f"/v1/me/addresses/{work}", token=token, json={"default": False})
        assert [(a["id"], a["default"]) for a in self.addresses(api, token)] == [(work, False)]
        assert_problem(api.request("DELETE", f"/v1/me/addresses/{home}", token=token), 404)

        # Pages as every list does.
        page = api.get("/v1/me/addresses", token=token, params={"limit": 1}).json()
        assert len(page["items"]) == 1 and page["next_cursor"] is None

    def test_checkout_ships_to_a_saved_address(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Saved", moderation="auto")
        seller, _ = self.approved_seller(api, m)
        buyer, other = self.user(api, m, "buyer"), self.user(api, m, "buyer")
        product = self.stocked(api, seller, 10, 1_500)
        home = api.created(api.post("/v1/me/addresses", token=buyer, json=HOME))
        theirs = api.created(api.post("/v1/me/addresses", token=other, json=WORK))

        cart = self.cart(api, buyer, {product: 1})

        def checkout(body: dict[str, Any]) -> Any:
            return api.post("/v1/checkout", token=buyer, key=f"co-{uuid4()}", json=body)

        head = container.log.head()
        # One address, never both nor none; a saved one only the buyer's own.
        both = {"cart_id": cart, "shipping_address": HOME, "shipping_address_id": home}
        assert_problem(checkout(both), 422)
        assert_problem(checkout({"cart_id": cart}), 422)
        assert_problem(checkout({"cart_id": cart, "shipping_address_id": theirs}), 404)
        assert_problem(checkout({"cart_id": cart, "shipping_address_id": str(uuid4())}), 404)
        assert container.log.head() == head
        assert self.available(api, buyer, product) == 10

        placed = checkout({"cart_id": cart, "shipping_address_id": home})
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order_id"]
        # The order keeps its own copy: changing the saved address later leaves it as shipped.
        api.request("PATCH", f"/v1/me/addresses/{home}", token=buyer, json={"line1": "Elsewhere"})
        order = api.get(f"/v1/orders/{order_id}", token=buyer).json()
        assert order["shipping_address"] == as_saved(HOME)
        assert self.available(api, buyer, product) == 9

    def test_bad_input_is_a_problem_and_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Strict")
        token = self.user(api, m, "buyer")
        api.request("PATCH", "/v1/me", token=token, json={"display_name": "Grace"})
        home = api.created(api.post("/v1/me/addresses", token=token, json=HOME))
        head = container.log.head()
        for body in (
            {"phone": "555-0100"},
            {"phone": "+0123456789"},
            {"locale": "english please"},
            {"marketing_opt_in": "yes"},
            {"marketing_opt_in": None},
            {"display_name": "x" * 101},
            {"email": "new@x.test"},
        ):
            refused = api.request("PATCH", "/v1/me", token=token, json=body)
            assert_problem(refused, 422)
            # The error names the field it is about.
            assert refused.json()["errors"][0]["loc"] == ["body", *body], refused.json()
        assert_problem(api.request("PATCH", "/v1/me", token=token, content="{"), 400)
        for address in (
            {k: v for k, v in HOME.items() if k != "city"},
            {**HOME, "country": "de"},
            {**HOME, "postal_code": "1" * 21},
            {**HOME, "default": "yes"},
            {**HOME, "planet": "Earth"},
        ):
            assert_problem(api.post("/v1/me/addresses", token=token, json=address), 422)
        path = f"/v1/me/addresses/{home}"
        for patch in ({"city": None}, {"country": "Deutschland"}, {"line1": ""}):
            assert_problem(api.request("PATCH", path, token=token, json=patch), 422)
        assert_problem(
            api.request("PATCH", "/v1/me/addresses/not-an-id", token=token, json={}), 422
        )
        assert container.log.head() == head
        me = api.get("/v1/me", token=token).json()
        assert me["display_name"] == "Grace" and me["phone"] is None
        [saved] = self.addresses(api, token)
        assert {k: saved[k] for k in as_saved(HOME)} == as_saved(HOME)

        # A full book refuses the next address with 409, and keeps the twenty it has.
        for n in range(19):
            api.created(api.post("/v1/me/addresses", token=token, json={**WORK, "line2": str(n)}))
        assert_problem(api.post("/v1/me/addresses", token=token, json=WORK), 409)
        assert len(api.get("/v1/me/addresses", token=token).json()["items"]) == 20

    def test_only_the_owner_reaches_an_address(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Mine")
        elsewhere = self.marketplace(api, root, "Theirs")
        owner, neighbour = self.user(api, m, "buyer"), self.user(api, m, "buyer")
        stranger = self.user(api, elsewhere, "buyer")
        home = api.created(api.post("/v1/me/addresses", token=owner, json=HOME))
        path = f"/v1/me/addresses/{home}"
        for token in (neighbour, stranger, m.admin_token):
            # Another person's address, or another tenant's, answers as an unknown one does.
            assert_problem(api.request("PATCH", path, token=token, json={"city": "X"}), 404)
            assert_problem(api.request("DELETE", path, token=token), 404)
            assert self.addresses(api, token) == []
        unknown = f"/v1/me/addresses/{uuid4()}"
        assert_problem(api.request("PATCH", unknown, token=owner, json={"city": "X"}), 404)
        for method in ("GET", "PATCH"):
            assert_problem(api.request(method, "/v1/me"), 401)
        assert_problem(api.request("GET", "/v1/me/addresses"), 401)
        assert_problem(api.post("/v1/me/addresses", json=HOME), 401)
        [saved] = self.addresses(api, owner)
        assert saved["city"] == "Arlington"
        # Every role has a profile of its own: an auditor keeps theirs too.
        auditor = self.platform_user(api, root, "auditor")
        body = {"display_name": "The Auditor"}
        assert api.request("PATCH", "/v1/me", token=auditor, json=body).status_code == 200
        assert api.get("/v1/me", token=auditor).json()["display_name"] == "The Auditor"

    def test_a_repeated_post_saves_one_address(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Once")
        token = self.user(api, m, "buyer")
        key = f"addr-{uuid4()}"
        first = api.post("/v1/me/addresses", token=token, json=HOME, key=key)
        head = container.log.head()
        again = api.post("/v1/me/addresses", token=token, json=HOME, key=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert container.log.head() == head
        assert len(self.addresses(api, token)) == 1

    def test_profile_and_addresses_are_sealed_exported_and_erased(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, "Private")
        token, user_id = self.signed_up(api, m)
        api.request("PATCH", "/v1/me", token=token, json={"display_name": "Rear Admiral G."})
        api.request("PATCH", "/v1/me", token=token, json={"phone": "+17035550199"})
        api.post("/v1/me/addresses", token=token, json={**HOME, "line1": "77 Secret Lane"})
        stored = b"".join(bytes(n.state) for n in container.log.read_raw(0, 1_000_000))
        for secret in (b"Rear Admiral G.", b"17035550199", b"77 Secret Lane"):
            assert secret not in stored

        exported = api.get("/v1/me/export", token=token).json()
        assert exported["profile"]["display_name"] == "Rear Admiral G."
        assert exported["profile"]["phone"] == "+17035550199"
        assert [a["line1"] for a in exported["addresses"]] == ["77 Secret Lane"]

        assert api.request("DELETE", "/v1/me", token=token).status_code == 204
        container.catch_up()
        marker = erased_marker(user_id)
        after = container.personal_data.export(TenantScope.only(m.tenant_id), user_id)
        assert after is not None
        assert after["profile"]["display_name"] == after["profile"]["phone"] == marker
        [address] = after["addresses"]
        assert {k: address[k] for k in as_saved(HOME)} == {k: marker for k in as_saved(HOME)}
        # A rebuild from the log reads the sealed events redacted, and agrees.
        rebuilt = container.operations.rebuild_models(["profiles"])
        assert rebuilt.swapped and rebuilt.matched, rebuilt.differences
