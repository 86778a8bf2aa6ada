"""Identity and tenancy over HTTP. Each backend set (embedded; PostgreSQL + MariaDB) runs these
same scenarios through `api`, an Api client on an app whose projectors run in-process."""

from __future__ import annotations

import json as jsonlib
import time
import unicodedata
from uuid import UUID, uuid4

import httpx
import jwt
import pytest

from api.bootstrap import Container
from api.idempotency import request_digest
from projections.mail import Email
from tests.conftest import TEST_SECRET
from tests.e2e.client import Api, assert_problem
from tests.e2e.publication_scenarios import Outbox
from tests.e2e.world import PASSWORD, ApiScenarios

OTHER_PASSWORD = "another horse, another battery"


def mailed(
    outbox: Outbox, count: int, kind: str = "sign_up_attempted", timeout_s: float = 10.0
) -> list[Email]:
    """The messages of one kind the email port was given, once it holds `count` of them (mail
    goes out beside the answer, not within it), or by the deadline. Every sign-up is mailed its
    verification too: these scenarios read the word to an email's owner."""

    def of_kind() -> list[Email]:
        return [e for e in outbox.sent if e.kind == kind]

    deadline = time.monotonic() + timeout_s
    while len(of_kind()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return of_kind()


def subject(token: str) -> str:
    return str(jwt.decode(token, TEST_SECRET, algorithms=["HS256"], issuer="velora")["sub"])


class IdentityScenarios(ApiScenarios):
    """Subclasses provide `container` (migrated) and `api` (an Api on it)."""

    @pytest.fixture
    def outbox(self, container: Container, monkeypatch: pytest.MonkeyPatch) -> Outbox:
        """The email port of account mail, replaced by one that keeps what it is given."""
        box = Outbox()
        monkeypatch.setattr(container.account_mail, "port", box)
        return box

    def sign_up(self, api: Api, tenant_id: str, email: str, password: str) -> httpx.Response:
        body = {"tenant_id": tenant_id, "email": email, "password": password}
        return api.post("/v1/auth/signup", json=body)

    def signs_in(self, api: Api, tenant_id: str, email: str, password: str) -> int:
        body = {"email": email, "password": password, "tenant_id": tenant_id}
        return int(api.http.post("/v1/auth/token", json=body).status_code)

    # -- sign-up never tells whether an email is registered (issue 27) ---------------------------

    def test_signing_up_with_a_registered_email_answers_as_for_a_new_one_and_mails_the_owner(
        self, api: Api, root: str, container: Container, outbox: Outbox
    ) -> None:
        m = self.marketplace(api, root)
        email = f"ann-{uuid4().hex[:6]}@m.test"
        first = self.sign_up(api, m.tenant_id, email, PASSWORD)
        again = self.sign_up(api, m.tenant_id, f"  {email.upper()}", OTHER_PASSWORD)
        owner = api.created(first)

        # The same answer: status, body shape, headers; a position past the first's.
        assert again.status_code == 201, again.text
        assert again.json().keys() == first.json().keys() == {"id"}
        assert UUID(again.json()["id"]).version == UUID(owner).version
        assert again.json()["id"] != owner
        assert set(again.headers) == set(first.headers)
        assert int(again.headers["X-Velora-Position"]) > int(first.headers["X-Velora-Position"])
        # Nothing was registered that lets the caller in, and the owner's account is untouched.
        assert self.signs_in(api, m.tenant_id, email, OTHER_PASSWORD) == 401
        assert subject(api.sign_in(email, PASSWORD, m.tenant_id)) == owner
        assert_problem(api.get(f"/v1/users/{again.json()['id']}", token=m.admin_token), 404)
        users = api.get(f"/v1/tenants/{m.tenant_id}/users", token=m.admin_token).json()["items"]
        assert [u["user_id"] for u in users if u["email"] == email] == [owner]

        # The owner hears of it, through the email port.
        (notice,) = mailed(outbox, 1)
        assert (notice.tenant_id, notice.recipient_id) == (m.tenant_id, owner)
        assert notice.kind == "sign_up_attempted"
        assert "tried to create an account with your email" in notice.subject
        # An account an admin made is told as well; admins themselves still hear of conflicts.
        staff = f"staff-{uuid4().hex[:6]}@m.test"
        staff_id = api.created(
            api.post(
                f"/v1/tenants/{m.tenant_id}/users",
                token=m.admin_token,
                json={"email": staff, "password": PASSWORD, "roles": ["seller"]},
            )
        )
        assert self.sign_up(api, m.tenant_id, staff, OTHER_PASSWORD).status_code == 201
        assert [n.recipient_id for n in mailed(outbox, 2)] == [owner, staff_id]
        duplicate = {"email": staff, "password": PASSWORD, "roles": ["buyer"]}
        users_path = f"/v1/tenants/{m.tenant_id}/users"
        assert_problem(api.post(users_path, token=m.admin_token, json=duplicate), 409)

    def test_an_erased_persons_email_signs_up_again_as_a_new_account(
        self, api: Api, root: str, outbox: Outbox
    ) -> None:
        m = self.marketplace(api, root)
        email = f"gone-{uuid4().hex[:6]}@m.test"
        old = api.created(self.sign_up(api, m.tenant_id, email, PASSWORD))
        old_token = api.sign_in(email, PASSWORD, m.tenant_id)
        assert api.request("DELETE", "/v1/me", token=old_token).status_code == 204

        new = api.created(self.sign_up(api, m.tenant_id, email, OTHER_PASSWORD))
        assert new != old
        new_token = api.sign_in(email, OTHER_PASSWORD, m.tenant_id)
        assert subject(new_token) == new
        assert api.get("/v1/me", token=new_token).json()["email"] == email
        # The old account stays erased.
        assert self.signs_in(api, m.tenant_id, email, PASSWORD) == 401
        assert_problem(api.get("/v1/me", token=old_token), 401)
        history = api.get(f"/v1/audit/streams/{old}/events", token=root).json()["items"]
        assert [e["type"] for e in history] == ["User.Registered", "User.Erased"]
        assert history[0]["data"]["email"] != email
        # The new account holds the email now: another sign-up tells it, and only it.
        assert self.sign_up(api, m.tenant_id, email, PASSWORD).status_code == 201
        assert [n.recipient_id for n in mailed(outbox, 1)] == [new]
        assert subject(api.sign_in(email, OTHER_PASSWORD, m.tenant_id)) == new

    def test_an_email_is_one_account_however_its_unicode_is_composed(
        self, api: Api, root: str, outbox: Outbox
    ) -> None:
        m = self.marketplace(api, root)
        address = f"caf\u00e9-{uuid4().hex[:6]}@m.test"
        composed = unicodedata.normalize("NFC", address)
        decomposed = unicodedata.normalize("NFD", address)
        assert composed != decomposed
        owner = api.created(self.sign_up(api, m.tenant_id, composed, PASSWORD))
        assert subject(api.sign_in(decomposed, PASSWORD, m.tenant_id)) == owner

        again = self.sign_up(api, m.tenant_id, decomposed.upper(), OTHER_PASSWORD)
        assert again.status_code == 201
        assert self.signs_in(api, m.tenant_id, decomposed, OTHER_PASSWORD) == 401
        assert [n.recipient_id for n in mailed(outbox, 1)] == [owner]
        staff = {"email": decomposed, "password": PASSWORD, "roles": ["seller"]}
        users_path = f"/v1/tenants/{m.tenant_id}/users"
        assert_problem(api.post(users_path, token=m.admin_token, json=staff), 409)
        assert api.get(f"/v1/users/{owner}", token=m.admin_token).json()["email"] == composed

    # -- the "done when" ----------------------------------------------------------------

    def test_a_super_admin_builds_a_marketplace_whose_users_sign_in(
        self, api: Api, root: str
    ) -> None:
        acme = self.marketplace(api, root)
        tenant = api.get(f"/v1/tenants/{acme.tenant_id}", token=acme.admin_token)
        assert tenant.status_code == 200
        assert tenant.json()["commission_bps"] == 1000 and tenant.json()["currency"] == "USD"
        assert tenant.json()["created_at"].endswith(("Z", "+00:00"))  # UTC, zone stated

        seller_email = f"seller-{uuid4().hex[:6]}@acme.test"
        seller_id = api.created(
            api.post(
                f"/v1/tenants/{acme.tenant_id}/users",
                token=acme.admin_token,
                json={"email": seller_email, "password": PASSWORD, "roles": ["seller"]},
            )
        )
        buyer_email = f"Buyer-{uuid4().hex[:6]}@Acme.test"
        buyer_id = api.created(
            api.post(
                "/v1/auth/signup",
                json={"tenant_id": acme.tenant_id, "email": buyer_email, "password": PASSWORD},
            )
        )

        seller_token = api.sign_in(seller_email, PASSWORD, acme.tenant_id)
        buyer_token = api.sign_in(buyer_email.lower(), PASSWORD, acme.tenant_id)
        claims = jwt.decode(buyer_token, TEST_SECRET, algorithms=["HS256"], issuer="velora")
        assert (claims["sub"], claims["tenant_id"], claims["roles"]) == (
            buyer_id,
            acme.tenant_id,
            ["buyer"],
        )

        me = api.get("/v1/me", token=seller_token).json()
        assert (me["user_id"], me["roles"], me["email"]) == (seller_id, ["seller"], seller_email)
        users = api.get(f"/v1/tenants/{acme.tenant_id}/users", token=acme.admin_token).json()
        assert {u["user_id"] for u in users["items"]} >= {seller_id, buyer_id}
        assert "password_hash" not in users["items"][0]

    def test_another_tenants_ids_answer_404_exactly_like_unknown_ids(
        self, api: Api, root: str
    ) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        globex_user = api.created(
            api.post(
                "/v1/auth/signup",
                json={
                    "tenant_id": globex.tenant_id,
                    "email": f"b-{uuid4().hex[:6]}@g.test",
                    "password": PASSWORD,
                },
            )
        )
        unknown = str(uuid4())
        new_user = {
            "email": f"x-{uuid4().hex[:6]}@a.test",
            "password": PASSWORD,
            "roles": ["buyer"],
        }
        routes = [
            ("GET", "/v1/tenants/{}", None),
            ("GET", "/v1/tenants/{}/users", None),
            ("POST", "/v1/tenants/{}/users", new_user),
        ]
        for method, path, body in routes:
            foreign = api.request(
                method, path.format(globex.tenant_id), token=acme.admin_token, json=body
            )
            missing = api.request(method, path.format(unknown), token=acme.admin_token, json=body)
            assert_problem(foreign, 404)
            assert_problem(missing, 404)
            assert foreign.json()["title"] == missing.json()["title"]
        assert_problem(api.get(f"/v1/users/{globex_user}", token=acme.admin_token), 404)
        assert_problem(api.get(f"/v1/users/{unknown}", token=acme.admin_token), 404)
        listed = api.get("/v1/tenants", token=acme.admin_token).json()["items"]
        assert [t["tenant_id"] for t in listed] == [acme.tenant_id]
        # Credentials of one tenant do not open another.
        response = api.post(
            "/v1/auth/token",
            json={"email": globex.admin_email, "password": PASSWORD, "tenant_id": acme.tenant_id},
        )
        assert_problem(response, 401)
        # Without a tenant, the answer says a marketplace's user names one (for any email, so
        # it tells no one which emails have accounts).
        for email in (globex.admin_email, f"nobody-{uuid4().hex[:6]}@x.test"):
            bare = api.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
            assert_problem(bare, 401)
            assert "tenant_id" in bare.json()["detail"]
        # The super admin crosses tenants.
        assert api.get(f"/v1/users/{globex_user}", token=root).status_code == 200

    def test_every_object_answers_its_id_as_id(self, api: Api, root: str) -> None:
        """Tenants, users, sellers and /v1/me say `id`, as every other object does; the names
        they had (`tenant_id`, `user_id`, `seller_id`) stay beside it until v2."""
        m = self.marketplace(api, root)
        tenant = api.get(f"/v1/tenants/{m.tenant_id}", token=m.admin_token).json()
        assert tenant["id"] == tenant["tenant_id"] == m.tenant_id
        listed = api.get("/v1/tenants", token=root).json()["items"]
        assert all(t["id"] == t["tenant_id"] for t in listed) and listed
        seller = self.user(api, m, "seller")
        made = api.post("/v1/sellers", token=seller, json={"display_name": "S", "country": "DE"})
        shown = api.get(f"/v1/sellers/{api.created(made)}", token=seller).json()  # its own
        assert shown["id"] == shown["seller_id"] == made.json()["id"]
        me = api.get("/v1/me", token=seller).json()
        assert me["id"] == me["user_id"] == shown["user_id"]
        users = api.get(f"/v1/tenants/{m.tenant_id}/users", token=m.admin_token).json()["items"]
        assert me["id"] in {u["id"] for u in users}
        assert all(u["id"] == u["user_id"] for u in users)

    def test_roles_are_checked_in_one_policy(self, api: Api, root: str) -> None:
        acme = self.marketplace(api, root)
        buyer_email = f"b-{uuid4().hex[:6]}@a.test"
        api.created(
            api.post(
                "/v1/auth/signup",
                json={"tenant_id": acme.tenant_id, "email": buyer_email, "password": PASSWORD},
            )
        )
        buyer = api.sign_in(buyer_email, PASSWORD, acme.tenant_id)
        tenant_body = {"name": "X", "currency": "EUR", "commission_bps": 0, "escrow_hold_days": 0}

        assert_problem(api.post("/v1/tenants", token=buyer, json=tenant_body), 403)
        assert_problem(api.post("/v1/tenants", token=acme.admin_token, json=tenant_body), 403)
        assert_problem(api.get(f"/v1/tenants/{acme.tenant_id}/users", token=buyer), 403)
        escalate = {
            "email": f"f-{uuid4().hex[:6]}@a.test",
            "password": PASSWORD,
            "roles": ["finance_admin"],
        }
        assert_problem(
            api.post(f"/v1/tenants/{acme.tenant_id}/users", token=acme.admin_token, json=escalate),
            403,
        )
        assert_problem(api.post("/v1/tenants", json=tenant_body), 401)
        assert_problem(api.post("/v1/tenants", token="not-a-jwt", json=tenant_body), 401)
        expired = jwt.encode(
            {
                "sub": str(uuid4()),
                "tenant_id": acme.tenant_id,
                "roles": ["super_admin"],
                "iat": 1,
                "exp": int(time.time()) - 10,
                "iss": "velora",
            },
            TEST_SECRET,
            algorithm="HS256",
        )
        assert_problem(api.post("/v1/tenants", token=expired, json=tenant_body), 401)
        forged = jwt.encode(
            {
                "sub": str(uuid4()),
                "tenant_id": acme.tenant_id,
                "roles": ["super_admin"],
                "iat": 1,
                "exp": int(time.time()) + 60,
                "iss": "velora",
            },
            "another-secret-of-sufficient-length-000",
            "HS256",
        )
        assert_problem(api.post("/v1/tenants", token=forged, json=tenant_body), 401)

    def test_bad_input_is_a_problem_and_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        acme = self.marketplace(api, root)
        taken = f"t-{uuid4().hex[:6]}@a.test"
        api.created(
            api.post(
                "/v1/auth/signup",
                json={"tenant_id": acme.tenant_id, "email": taken, "password": PASSWORD},
            )
        )
        head = container.log.head()
        users = f"/v1/tenants/{acme.tenant_id}/users"
        ok_user = {"email": f"n-{uuid4().hex[:6]}@a.test", "password": PASSWORD, "roles": ["buyer"]}
        cases = [
            ("/v1/tenants", {"content": b'{"name": "x", '}, 400),
            ("/v1/tenants", {"content": b"[1, 2"}, 400),
            ("/v1/tenants", {"json": {"name": "x"}}, 422),
            (
                "/v1/tenants",
                {
                    "json": {
                        "name": "x",
                        "currency": "usd",
                        "commission_bps": 1,
                        "escrow_hold_days": 1,
                    }
                },
                422,
            ),
            (
                "/v1/tenants",
                {
                    "json": {
                        "name": "x",
                        "currency": "USD",
                        "commission_bps": 10_001,
                        "escrow_hold_days": 1,
                    }
                },
                422,
            ),
            (
                "/v1/tenants",
                {
                    "json": {
                        "name": "x",
                        "currency": "USD",
                        "commission_bps": 1.5,
                        "escrow_hold_days": 1,
                    }
                },
                422,
            ),
            (
                "/v1/tenants",
                {
                    "json": {
                        "name": "x",
                        "currency": "USD",
                        "commission_bps": 1,
                        "escrow_hold_days": 1,
                        "surprise": True,
                    }
                },
                422,
            ),
            (
                "/v1/tenants",
                {
                    "json": {
                        "name": "   ",
                        "currency": "USD",
                        "commission_bps": 1,
                        "escrow_hold_days": 1,
                    }
                },
                422,
            ),
            (users, {"json": {**ok_user, "email": "not-an-email"}}, 422),
            (users, {"json": {**ok_user, "password": "short"}}, 422),
            (users, {"json": {**ok_user, "roles": ["wizard"]}}, 422),
            (users, {"json": {**ok_user, "roles": []}}, 422),
            (users, {"json": {**ok_user, "email": taken.upper()}}, 409),
            (
                "/v1/auth/signup",
                {"json": {"tenant_id": "nope", "email": "a@b.co", "password": PASSWORD}},
                422,
            ),
            (
                "/v1/auth/signup",
                {"json": {"tenant_id": str(uuid4()), "email": "a@b.co", "password": PASSWORD}},
                404,
            ),
        ]
        for path, body, status in cases:
            token = None if path == "/v1/auth/signup" else root
            assert_problem(api.post(path, token=token, **body), status)
        # A bad email is refused naming the field, as a sign-up's is.
        bad = api.post(users, token=root, json={**ok_user, "email": "not-an-email"}).json()
        assert bad["errors"][0]["loc"] == ["body", "email"], bad
        assert_problem(api.get("/v1/tenants", token=root, params={"limit": 501}), 422)
        assert_problem(api.get("/v1/tenants", token=root, params={"cursor": "@@@"}), 422)
        assert_problem(api.get("/v1/tenants/not-a-uuid", token=root), 422)
        assert_problem(api.get("/v1/no-such-route"), 404)
        assert_problem(api.request("DELETE", "/v1/tenants", token=root), 405)
        assert container.log.head() == head

    def test_a_repeated_post_has_one_effect(
        self, api: Api, root: str, container: Container
    ) -> None:
        body = {"name": "Once", "currency": "GBP", "commission_bps": 250, "escrow_hold_days": 3}
        key = f"key-{uuid4()}"
        first = api.post("/v1/tenants", token=root, json=body, key=key)
        head = container.log.head()
        again = api.post("/v1/tenants", token=root, json=body, key=key)

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["X-Velora-Position"] == first.headers["X-Velora-Position"]
        assert "Idempotent-Replayed" not in first.headers
        assert container.log.head() == head

        other = api.post("/v1/tenants", token=root, json={**body, "name": "Twice"}, key=key)
        assert_problem(other, 422)
        assert container.log.head() == head

        # A failed first attempt is replayed too: the outcome, not just successes, is recorded.
        bad_key = f"key-{uuid4()}"
        bad = {**body, "currency": "XX"}
        assert_problem(api.post("/v1/tenants", token=root, json=bad, key=bad_key), 422)
        replayed = api.post("/v1/tenants", token=root, json=bad, key=bad_key)
        assert replayed.status_code == 422 and replayed.headers["Idempotent-Replayed"] == "true"

    def test_a_repeat_while_the_first_is_in_flight_conflicts(
        self, api: Api, root: str, container: Container
    ) -> None:
        acme = self.marketplace(api, root)
        principal = container.tokens.verify(acme.admin_token)
        body = {"email": f"i-{uuid4().hex[:6]}@a.test", "password": PASSWORD, "roles": ["seller"]}
        key = f"key-{uuid4()}"
        path = f"/v1/tenants/{acme.tenant_id}/users"
        # Claim the key as the first request would on arrival, then send the repeat.
        raw = jsonlib.dumps(body).encode()
        digest = request_digest("POST", path, b"", raw, b"application/json")
        assert (
            container.idempotency.claim(f"user:{principal.user_id}", key, digest).outcome == "new"
        )
        head = container.log.head()
        assert_problem(api.post(path, token=acme.admin_token, content=raw, key=key), 409)
        # Keys are per user: the same key from the super admin is a separate request.
        assert api.post(path, token=root, content=raw, key=key).status_code == 201
        assert container.log.head() > head

    def test_queries_read_their_writes(self, api: Api, root: str) -> None:
        response = api.post(
            "/v1/tenants",
            token=root,
            json={"name": "Fresh", "currency": "JPY", "commission_bps": 0, "escrow_hold_days": 0},
        )
        position = int(response.headers["X-Velora-Position"])
        tenant_id = response.json()["id"]
        got = api.get(
            f"/v1/tenants/{tenant_id}", token=root, headers={"X-Velora-Min-Position": str(position)}
        )
        assert got.status_code == 200 and got.json()["currency"] == "JPY"

    def test_the_api_describes_itself(self, api: Api) -> None:
        spec = api.get("/openapi.json").json()
        paths = spec["paths"]
        for path in (
            "/v1/auth/token",
            "/v1/auth/signup",
            "/v1/tenants",
            "/v1/tenants/{tenant_id}",
            "/v1/tenants/{tenant_id}/users",
            "/v1/users/{user_id}",
            "/v1/me",
            "/healthz",
            "/readyz",
        ):
            assert path in paths, path
        assert paths["/v1/tenants"]["post"]["description"]
        assert "swagger" in api.get("/docs").text.lower()
        assert api.get("/healthz").json() == {"status": "ok"}
        ready = api.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        assert api.get("/metrics").status_code == 200
