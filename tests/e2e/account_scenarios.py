"""Accounts over HTTP, as API.md's clients use them (v1.2 "Accounts"): refresh tokens with
rotation and reuse detection, signing out, a password reset from the request to the new password
read out of the mail, email verification, and sellers signing themselves up. Mail goes through
the SMTP adapter to a real SMTP server (tests/mailbox.py), so every token a scenario uses is
read out of a message as its recipient would read it.

Subclasses provide `inbox` (the SMTP server), `deploy` (a migrated container on their backends,
with settings of its own, mailing to `inbox`), `container` (one of those) and `api`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import jwt
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from domain.accounts import digest
from eventstore.context import CommandContext
from tests.conftest import TEST_SECRET
from tests.e2e.client import Api, assert_problem
from tests.e2e.world import PASSWORD, ApiScenarios, Marketplace
from tests.mailbox import Inbox

NEW_PASSWORD = "a new and longer passphrase"
RESET, VERIFY = "Choose a new password", "Confirm your email"  # the built-in subjects
# These scenarios sign in, reset and verify far more often than a person would: the limits an
# operator raises for a load test. tests/e2e/test_accounts_embedded.py tries the real ones.
RAISED = {
    "rate_account_tokens_per_address": "100000/minute",
    "rate_password_reset_per_account": "100000/minute",
}

Deploy = Callable[..., Container]


def account_settings(inbox: Inbox, **overrides: object) -> dict[str, object]:
    return {**inbox.settings(), **RAISED, **overrides}


class AccountScenarios(ApiScenarios):
    # -- helpers: what a storefront does ---------------------------------------------------------

    def sign_up(
        self, api: Api, m: Marketplace, role: str | None = None, email: str | None = None
    ) -> tuple[str, str]:
        """Signs a person up; returns their email and id."""
        email = email or f"ann-{uuid4().hex[:8]}@shoppers.test"
        body: dict[str, Any] = {"tenant_id": m.tenant_id, "email": email, "password": PASSWORD}
        if role:
            body["role"] = role
        return email, api.created(api.post("/v1/auth/signup", json=body))

    def tokens(
        self, api: Api, email: str, password: str = PASSWORD, tenant_id: str | None = None
    ) -> dict[str, Any]:
        body = {"email": email, "password": password, "tenant_id": tenant_id}
        answer = api.http.post("/v1/auth/token", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Cache-Control"] == "no-store"
        return dict(answer.json())

    def refresh(self, api: Api, refresh_token: str) -> httpx.Response:
        return api.http.post("/v1/auth/refresh", json={"refresh_token": refresh_token})

    def reset_token(self, api: Api, inbox: Inbox, tenant_id: str | None, email: str) -> str:
        """Asks for a password reset and reads the token out of the mail that comes."""
        before = len(inbox.to(email, RESET))
        answer = api.http.post(
            "/v1/auth/password-reset", json={"tenant_id": tenant_id, "email": email}
        )
        assert answer.status_code == 202, answer.text
        return inbox.wait(email, before + 1, RESET)[-1].token()

    # -- refresh tokens --------------------------------------------------------------------------

    def test_a_refresh_token_works_once_and_a_spent_one_ends_the_sign_in(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        email, user_id = self.sign_up(api, m)
        first = self.tokens(api, email, tenant_id=m.tenant_id)
        assert first["token_type"] == "bearer" and first["expires_in"] > 0
        elsewhere = self.tokens(api, email, tenant_id=m.tenant_id)  # another sign-in

        rotated = self.refresh(api, first["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        assert rotated.headers["Cache-Control"] == "no-store"
        second = rotated.json()
        assert second.keys() == first.keys()
        assert second["refresh_token"] != first["refresh_token"]
        claims = jwt.decode(
            second["access_token"], TEST_SECRET, algorithms=["HS256"], issuer="velora"
        )
        assert (claims["sub"], claims["tenant_id"], claims["roles"]) == (
            user_id,
            m.tenant_id,
            ["buyer"],
        )
        assert api.get("/v1/me", token=second["access_token"]).status_code == 200
        third = self.refresh(api, second["refresh_token"]).json()

        # The first token again: spent, so someone holds a copy; the whole sign-in ends.
        assert_problem(self.refresh(api, first["refresh_token"]), 401)
        assert_problem(self.refresh(api, third["refresh_token"]), 401)
        assert_problem(self.refresh(api, second["refresh_token"]), 401)
        # Another sign-in of the same account is its own, and goes on.
        assert self.refresh(api, elsewhere["refresh_token"]).status_code == 200

    def test_signing_out_revokes_the_refresh_token(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        email, _ = self.sign_up(api, m)
        signed_in = self.tokens(api, email, tenant_id=m.tenant_id)
        rotated = self.refresh(api, signed_in["refresh_token"]).json()
        out = api.http.post("/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]})
        assert out.status_code == 204, out.text
        assert int(out.headers["X-Velora-Position"]) > 0
        assert_problem(self.refresh(api, rotated["refresh_token"]), 401)
        # Signing out again, or with what is no token at all, answers the same (RFC 7009).
        for token in (rotated["refresh_token"], f"{uuid4().hex}.{'x' * 43}", "nonsense"):
            again = api.http.post("/v1/auth/logout", json={"refresh_token": token})
            assert again.status_code == 204, again.text

    def test_staff_sign_ins_refresh_too_and_keep_their_roles(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        admin = self.tokens(api, m.admin_email, tenant_id=m.tenant_id)
        renewed = self.refresh(api, admin["refresh_token"]).json()
        assert api.get(f"/v1/tenants/{m.tenant_id}", token=renewed["access_token"]).is_success
        auditor_email = f"auditor-{uuid4().hex[:8]}@platform.test"
        api.created(
            api.post(
                "/v1/tenants/00000000-0000-0000-0000-000000000000/users",
                token=root,
                json={"email": auditor_email, "password": PASSWORD, "roles": ["auditor"]},
            )
        )
        staff = self.tokens(api, auditor_email)  # platform staff sign in without a tenant
        renewed = self.refresh(api, staff["refresh_token"]).json()
        assert api.get("/v1/audit/verify", token=renewed["access_token"]).is_success

    # -- password reset --------------------------------------------------------------------------

    def test_a_password_reset_from_the_request_to_the_new_password(
        self, api: Api, root: str, inbox: Inbox
    ) -> None:
        m = self.marketplace(api, root)
        email, user_id = self.sign_up(api, m)
        here = self.tokens(api, email, tenant_id=m.tenant_id)
        there = self.tokens(api, email, tenant_id=m.tenant_id)

        asked = api.http.post(
            "/v1/auth/password-reset", json={"tenant_id": m.tenant_id, "email": email.upper()}
        )
        assert asked.status_code == 202, asked.text
        (mail,) = inbox.wait(email, 1, RESET)
        # Multipart, plain text and HTML, from the configured sender, to the account's email.
        assert mail.message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in mail.message.iter_parts()] == [
            "text/plain",
            "text/html",
        ]
        assert str(mail.message["From"]) == "Acme Market <shop@acme.test>"
        assert mail.mail_from == "shop@acme.test" and mail.to == email
        token = mail.token()
        assert token in mail.part("html")
        assert "30 minutes" in mail.part("plain")

        confirmed = api.http.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
        )
        assert confirmed.status_code == 204, confirmed.text
        # The old password opens nothing, the new one does; every sign-in before it has ended.
        old = {"email": email, "password": PASSWORD, "tenant_id": m.tenant_id}
        assert_problem(api.http.post("/v1/auth/token", json=old), 401)
        after = self.tokens(api, email, NEW_PASSWORD, m.tenant_id)
        assert jwt.decode(after["access_token"], options={"verify_signature": False})["sub"] == (
            user_id
        )
        for before in (here, there):
            assert_problem(self.refresh(api, before["refresh_token"]), 401)
            # Their access tokens end with them, not only when they expire.
            assert_problem(api.get("/v1/me", token=before["access_token"]), 401)
        assert api.get("/v1/me", token=after["access_token"]).status_code == 200
        assert self.refresh(api, after["refresh_token"]).status_code == 200
        # The token worked once.
        again = {"token": token, "new_password": "yet another passphrase"}
        assert_problem(api.http.post("/v1/auth/password-reset/confirm", json=again), 400)
        self.tokens(api, email, NEW_PASSWORD, m.tenant_id)
        # The reset came through the mailbox: the email counts as verified.
        history = api.get(f"/v1/audit/streams/{user_id}/events", token=root).json()["items"]
        assert [e["type"] for e in history].count("User.EmailVerified") == 1

    def test_a_reset_asked_for_before_the_password_changed_is_spent(
        self, api: Api, root: str, inbox: Inbox
    ) -> None:
        m = self.marketplace(api, root)
        email, _ = self.sign_up(api, m)
        older = self.reset_token(api, inbox, m.tenant_id, email)
        newer = self.reset_token(api, inbox, m.tenant_id, email)
        body = {"token": newer, "new_password": NEW_PASSWORD}
        assert api.http.post("/v1/auth/password-reset/confirm", json=body).status_code == 204
        body = {"token": older, "new_password": "an older link's passphrase"}
        assert_problem(api.http.post("/v1/auth/password-reset/confirm", json=body), 400)
        self.tokens(api, email, NEW_PASSWORD, m.tenant_id)

    def test_a_reset_answers_alike_for_any_email_and_mails_only_an_account(
        self, api: Api, root: str, inbox: Inbox
    ) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        email, _ = self.sign_up(api, acme)
        nobody = f"nobody-{uuid4().hex[:8]}@shoppers.test"
        answers = [
            api.http.post("/v1/auth/password-reset", json=body)
            for body in (
                {"tenant_id": acme.tenant_id, "email": nobody},
                {"tenant_id": globex.tenant_id, "email": email},  # another tenant's account
                {"tenant_id": str(uuid4()), "email": email},  # no such tenant
                {"email": email},  # platform staff: not this buyer
                {"tenant_id": acme.tenant_id, "email": email},
            )
        ]
        assert {a.status_code for a in answers} == {202}
        assert len({a.text for a in answers}) == 1
        assert len({tuple(sorted(a.headers)) for a in answers}) == 1
        # Mail goes out in order on one thread: once the last request's has come, the others'
        # would have come before it.
        assert len(inbox.wait(email, 1, RESET)) == 1
        assert inbox.to(nobody) == []
        # Staff reset their own password without naming a tenant.
        staff = f"finance-{uuid4().hex[:8]}@platform.test"
        api.created(
            api.post(
                "/v1/tenants/00000000-0000-0000-0000-000000000000/users",
                token=root,
                json={"email": staff, "password": PASSWORD, "roles": ["finance_admin"]},
            )
        )
        token = self.reset_token(api, inbox, None, staff)
        body = {"token": token, "new_password": NEW_PASSWORD}
        assert api.http.post("/v1/auth/password-reset/confirm", json=body).status_code == 204
        self.tokens(api, staff, NEW_PASSWORD)

    def test_an_expired_reset_token_is_refused(self, deploy: Deploy, inbox: Inbox) -> None:
        container = deploy(password_reset_ttl_s=1)
        tenant = container.identity.register_tenant(
            CommandContext.system("test"),
            name="Brief",
            currency="USD",
            commission_bps=0,
            escrow_hold_days=0,
        ).id
        with TestClient(create_app(container, run_projections=True)) as http:
            api = Api(http)
            email, _ = self.sign_up(api, Marketplace(str(tenant), "", ""))
            token = self.reset_token(api, inbox, str(tenant), email)
            assert "1 second" in inbox.to(email, RESET)[-1].part("plain")
            asked_at = datetime.now(UTC)
            while datetime.now(UTC) < asked_at + timedelta(seconds=1.2):
                time.sleep(0.1)  # the token's whole life
            body = {"token": token, "new_password": NEW_PASSWORD}
            assert_problem(http.post("/v1/auth/password-reset/confirm", json=body), 400)
            self.tokens(api, email, PASSWORD, str(tenant))

    # -- email verification ----------------------------------------------------------------------

    def test_sign_up_mails_the_token_that_verifies_the_email(
        self, api: Api, root: str, inbox: Inbox
    ) -> None:
        m = self.marketplace(api, root)
        email, user_id = self.sign_up(api, m)
        (mail,) = inbox.wait(email)
        assert str(mail.message["Subject"]) == VERIFY
        assert mail.message.get_content_type() == "multipart/alternative"
        token = mail.token()
        verified = api.http.post("/v1/auth/verify-email", json={"token": token})
        assert verified.status_code == 204, verified.text
        for used in (token, token[:-4] + "AAAA", f"{uuid4().hex}.{'x' * 43}", "not-a-token"):
            assert_problem(api.http.post("/v1/auth/verify-email", json={"token": used}), 400)
        history = api.get(f"/v1/audit/streams/{user_id}/events", token=root).json()["items"]
        (event,) = [e for e in history if e["type"] == "User.EmailVerified"]
        assert event["tenant_id"] == m.tenant_id and event["data"]["email"] == email
        # A sign-up with an email that has an account mails its owner, and verifies nothing.
        self.sign_up(api, m, email=email)
        (_, attempted) = inbox.wait(email, 2)
        assert "tried to create an account" in str(attempted.message["Subject"])

    # -- sellers signing themselves up -------------------------------------------------------------

    def test_a_seller_signs_up_then_registers_a_shop_while_the_tenant_allows_it(
        self, api: Api, root: str
    ) -> None:
        m = self.marketplace(api, root)
        assert api.get(f"/v1/tenants/{m.tenant_id}", token=m.admin_token).json()["seller_signup"]
        email, _ = self.sign_up(api, m, role="seller")
        seller = self.tokens(api, email, tenant_id=m.tenant_id)
        claims = jwt.decode(seller["access_token"], options={"verify_signature": False})
        assert claims["roles"] == ["seller"]
        shop = {"display_name": "Self-made", "country": "DE"}
        created = api.post("/v1/sellers", token=seller["access_token"], json=shop)
        assert created.status_code == 201 and created.json()["status"] == "pending"

        path = f"/v1/tenants/{m.tenant_id}/seller-signup"
        closed = api.request("PUT", path, token=m.admin_token, json={"seller_signup": False})
        assert closed.status_code == 200, closed.text
        assert not api.get(f"/v1/tenants/{m.tenant_id}", token=m.admin_token).json()[
            "seller_signup"
        ]
        body = {"tenant_id": m.tenant_id, "email": f"s-{uuid4().hex[:6]}@m.test"}
        refused = api.post("/v1/auth/signup", json={**body, "password": PASSWORD, "role": "seller"})
        assert_problem(refused, 403)
        self.sign_up(api, m)  # buyers still sign up
        for role in ("marketplace_admin", "super_admin", "Seller", ""):
            bad = {**body, "password": PASSWORD, "role": role}
            assert_problem(api.post("/v1/auth/signup", json=bad), 422)
        opened = api.request("PUT", path, token=m.admin_token, json={"seller_signup": True})
        assert opened.status_code == 200
        self.sign_up(api, m, role="seller")

    def test_a_tenant_made_without_seller_signup_refuses_it(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, "Curated", seller_signup=False)
        tenant = api.get(f"/v1/tenants/{m.tenant_id}", token=root).json()
        assert tenant["seller_signup"] is False
        body = {"tenant_id": m.tenant_id, "email": "s@m.test", "password": PASSWORD}
        assert_problem(api.post("/v1/auth/signup", json={**body, "role": "seller"}), 403)
        for wrong in ("no", 0, None):
            answer = api.post(
                "/v1/tenants",
                token=root,
                json={
                    "name": "Odd",
                    "currency": "USD",
                    "commission_bps": 0,
                    "escrow_hold_days": 0,
                    "seller_signup": wrong,
                },
            )
            assert_problem(answer, 422)

    # -- tenancy, input, secrets -------------------------------------------------------------------

    def test_another_tenants_setting_is_404_and_its_sign_ins_stay_its_own(
        self, api: Api, root: str
    ) -> None:
        acme, globex = self.marketplace(api, root, "Acme"), self.marketplace(api, root, "Globex")
        path = f"/v1/tenants/{globex.tenant_id}/seller-signup"
        body = {"seller_signup": False}
        assert_problem(api.request("PUT", path, token=acme.admin_token, json=body), 404)
        assert api.request("PUT", path, token=root, json=body).status_code == 200
        # The same email in two tenants is two accounts, each its own sign-ins.
        email = f"twice-{uuid4().hex[:6]}@m.test"
        _, in_acme = self.sign_up(api, acme, email=email)
        _, in_globex = self.sign_up(api, globex, email=email)
        renewed = self.refresh(
            api, self.tokens(api, email, tenant_id=acme.tenant_id)["refresh_token"]
        )
        claims = jwt.decode(renewed.json()["access_token"], options={"verify_signature": False})
        assert (
            (claims["sub"], claims["tenant_id"])
            == (in_acme, acme.tenant_id)
            != (
                in_globex,
                globex.tenant_id,
            )
        )
        assert_problem(
            api.get(f"/v1/tenants/{globex.tenant_id}", token=renewed.json()["access_token"]),
            403,
        )

    def test_bad_input_is_4xx_problem_json_and_stores_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        head = container.log.head()
        refused = [
            ("/v1/auth/refresh", {}, 422),
            ("/v1/auth/refresh", {"refresh_token": 5}, 422),
            ("/v1/auth/refresh", {"refresh_token": "x" * 500}, 422),
            ("/v1/auth/refresh", {"refresh_token": "t", "extra": 1}, 422),
            ("/v1/auth/refresh", {"refresh_token": f"{uuid4().hex}.{'A' * 43}"}, 401),
            ("/v1/auth/refresh", {"refresh_token": "no.token"}, 401),
            ("/v1/auth/logout", {}, 422),
            ("/v1/auth/password-reset", {}, 422),
            ("/v1/auth/password-reset", {"email": "a@b.co", "tenant_id": "nope"}, 422),
            ("/v1/auth/password-reset/confirm", {"token": "t"}, 422),
            ("/v1/auth/password-reset/confirm", {"token": "t", "new_password": "short"}, 422),
            ("/v1/auth/password-reset/confirm", {"token": "t", "new_password": NEW_PASSWORD}, 400),
            ("/v1/auth/verify-email", {"token": ""}, 422),
            ("/v1/auth/verify-email", {"token": "a\u0000b"}, 422),
            ("/v1/auth/signup", {"tenant_id": m.tenant_id, "email": "a@b.co"}, 422),
        ]
        for path, body, status in refused:
            assert_problem(api.http.post(path, json=body), status)
        malformed = api.http.post(
            "/v1/auth/refresh", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert_problem(malformed, 400)
        assert container.log.head() == head

    def test_no_token_or_digest_leaves_through_the_audit_trail(
        self, api: Api, root: str, inbox: Inbox
    ) -> None:
        m = self.marketplace(api, root)
        email, user_id = self.sign_up(api, m)
        verify_token = inbox.wait(email, 1, VERIFY)[0].token()
        assert api.http.post("/v1/auth/verify-email", json={"token": verify_token}).is_success
        first = self.tokens(api, email, tenant_id=m.tenant_id)["refresh_token"]
        second = self.refresh(api, first).json()["refresh_token"]
        reset_token = self.reset_token(api, inbox, m.tenant_id, email)
        body = {"token": reset_token, "new_password": NEW_PASSWORD}
        assert api.http.post("/v1/auth/password-reset/confirm", json=body).is_success
        auditor = self.platform_user(api, root, "auditor")
        secrets = [first, second, reset_token, verify_token]
        secrets += [t.partition(".")[2] for t in secrets]
        secrets += [digest(t.partition(".")[2]) for t in secrets[:4]]

        streams = [user_id, *(str(UUID(t.partition(".")[0])) for t in (first, reset_token))]
        streams.append(str(UUID(verify_token.partition(".")[0])))
        for reader in (auditor, root):
            for stream in streams:
                history = api.get(f"/v1/audit/streams/{stream}/events", token=reader)
                assert history.status_code == 200, history.text
                assert not [s for s in secrets if s in history.text]
                for item in history.json()["items"]:
                    if "token_digest" in item["data"]:
                        assert item["data"]["token_digest"] == "[secret]"
                state = api.get(f"/v1/audit/streams/{stream}/state", token=reader)
                assert state.status_code == 200, state.text
                assert not [s for s in secrets if s in state.text]
        types = [
            e["type"]
            for e in api.get(f"/v1/audit/streams/{streams[1]}/events", token=auditor).json()[
                "items"
            ]
        ]
        assert types == ["Session.Started", "Session.Rotated"]


class AccountLimitScenarios:
    """The real limits on the account-token routes (the other scenarios raise them). Subclasses
    provide `deploy`."""

    @contextmanager
    def served(self, deploy: Deploy, **limits: str) -> Iterator[tuple[TestClient, str]]:
        container = deploy(**limits)
        tenant = container.identity.register_tenant(
            CommandContext.system("test"),
            name="Tight",
            currency="USD",
            commission_bps=0,
            escrow_hold_days=0,
        ).id
        with TestClient(create_app(container, run_projections=True)) as http:
            yield http, str(tenant)

    def test_password_resets_are_limited_per_account_and_per_address(self, deploy: Deploy) -> None:
        tight = {
            "rate_password_reset_per_account": "2 per hour",
            "rate_account_tokens_per_address": "4/minute",
        }
        with self.served(deploy, **tight) as (http, tenant):
            one = {"tenant_id": tenant, "email": "one@m.test"}
            for _ in range(2):
                assert http.post("/v1/auth/password-reset", json=one).status_code == 202
            limited = http.post("/v1/auth/password-reset", json=one)
            assert_problem(limited, 429)
            assert int(limited.headers["Retry-After"]) >= 1
            # Another account from the same address, until the address's own limit.
            two = {"tenant_id": tenant, "email": "two@m.test"}
            assert http.post("/v1/auth/password-reset", json=two).status_code == 202
            assert_problem(http.post("/v1/auth/verify-email", json={"token": "t"}), 429)
