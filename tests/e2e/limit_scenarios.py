"""Abuse limits, tried from outside: API.md's 429 with Retry-After on sign-in, sign-up and a
tenant's request budget, and 413 for a body over the limit. These scenarios run with tight limits
of their own (the other scenarios raise them, as an operator would for a load test)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from domain.base import PLATFORM_TENANT_ID
from eventstore.context import CommandContext
from tests.conftest import built, make_settings
from tests.e2e.client import assert_problem
from tests.e2e.world import PASSWORD

TIGHT = {
    "rate_sign_in_per_address": "8/minute",
    "rate_sign_in_per_account": "3 per 15 minutes",
    "rate_sign_up_per_address": "2/minute",
    "rate_tenant_requests": "15/minute",
    "max_body_bytes": 64 * 1024,
}

# The settings of one deployment: (data dir, overrides) -> a migrated container.
Deploy = Callable[..., Container]


def limited(response: httpx.Response) -> int:
    """The wait a 429 asks for, checked to be problem+json with a whole Retry-After."""
    assert_problem(response, 429)
    wait = int(response.headers["Retry-After"])
    assert wait >= 1
    return wait


class LimitScenarios:
    """Subclasses provide `deploy`: a container on their backends, with the given settings."""

    @pytest.fixture
    def app(self, deploy: Deploy) -> Iterator[tuple[TestClient, Container, str]]:
        container = deploy(**TIGHT)
        root = f"root-{uuid4().hex[:8]}@velora.dev"
        container.identity.ensure_superuser(
            CommandContext.system("test"), email=root, password=PASSWORD
        )
        with TestClient(create_app(container, run_projections=True)) as http:
            yield http, container, root

    def tenant(self, http: TestClient, root_token: str) -> str:
        created = http.post(
            "/v1/tenants",
            headers={"Authorization": f"Bearer {root_token}"},
            json={"name": "Acme", "currency": "USD", "commission_bps": 1000, "escrow_hold_days": 7},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def test_guessing_one_accounts_password_stops_at_the_account_limit(
        self, app: tuple[TestClient, Container, str]
    ) -> None:
        http, _, root = app
        wrong = {"email": root, "password": "not-the-password"}
        for _ in range(3):
            assert_problem(http.post("/v1/auth/token", json=wrong), 401)
        # The right password is refused too, until the window passes: the guesser learns nothing.
        limited(http.post("/v1/auth/token", json={"email": root, "password": PASSWORD}))

    def test_one_address_trying_many_accounts_stops_at_the_address_limit(
        self, app: tuple[TestClient, Container, str]
    ) -> None:
        http, _, root = app
        answers = [
            http.post("/v1/auth/token", json={"email": f"u{i}@x.test", "password": "guess-1234"})
            for i in range(8)
        ]
        assert [a.status_code for a in answers] == [401] * 8
        limited(http.post("/v1/auth/token", json={"email": root, "password": PASSWORD}))

    def test_sign_ups_from_one_address_are_limited_and_a_refused_one_records_nothing(
        self, app: tuple[TestClient, Container, str]
    ) -> None:
        http, container, root = app
        token = http.post("/v1/auth/token", json={"email": root, "password": PASSWORD})
        tenant = self.tenant(http, token.json()["access_token"])
        for i in range(2):
            body = {"tenant_id": tenant, "email": f"b{i}@x.test", "password": PASSWORD}
            assert http.post("/v1/auth/signup", json=body).status_code == 201
        head = container.log.head()
        body = {"tenant_id": tenant, "email": "b3@x.test", "password": PASSWORD}
        limited(http.post("/v1/auth/signup", json=body))
        assert container.log.head() == head

    def test_a_tenant_spends_its_own_request_budget_only(
        self, app: tuple[TestClient, Container, str]
    ) -> None:
        http, container, root = app
        root_token = http.post("/v1/auth/token", json={"email": root, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {root_token.json()['access_token']}"}
        tenant = self.tenant(http, root_token.json()["access_token"])
        admin = f"admin-{uuid4().hex[:6]}@x.test"
        made = http.post(
            f"/v1/tenants/{tenant}/users",
            headers=headers,
            json={"email": admin, "password": PASSWORD, "roles": ["marketplace_admin"]},
        )
        assert made.status_code == 201, made.text
        signed_in = http.post(
            "/v1/auth/token", json={"email": admin, "password": PASSWORD, "tenant_id": tenant}
        )
        admin_headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        answers = [http.get(f"/v1/tenants/{tenant}", headers=admin_headers) for _ in range(16)]
        statuses = [a.status_code for a in answers]
        assert statuses[:15] == [200] * 15, statuses
        limited(answers[15])
        # The platform's staff have a budget of their own, untouched by the tenant's.
        assert http.get("/v1/tenants", headers=headers).status_code == 200
        assert container.settings.rate_tenant_requests == "15/minute"

    def test_a_body_over_the_limit_is_refused_before_it_is_read(
        self, app: tuple[TestClient, Container, str]
    ) -> None:
        http, _, _ = app
        big = json.dumps({"email": "x" * 70_000, "password": PASSWORD}).encode()
        stated = http.post(
            "/v1/auth/signup", content=big, headers={"Content-Type": "application/json"}
        )
        assert_problem(stated, 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for start in range(0, len(big), 8192):
                yield big[start : start + 8192]

        for path, headers in (
            ("/v1/auth/signup", {}),
            ("/v1/webhooks/stripe", {"Stripe-Signature": "t=1,v1=00"}),
            ("/v1/auth/signup", {"Idempotency-Key": f"big-{uuid4()}"}),
        ):
            streamed = http.post(
                path, content=chunks(), headers={"Content-Type": "application/json", **headers}
            )
            assert_problem(streamed, 413)
        small = {"tenant_id": str(PLATFORM_TENANT_ID), "email": "a@b.test", "password": PASSWORD}
        assert http.post("/v1/auth/signup", json=small).status_code == 404  # read and answered


@pytest.fixture
def embedded_deploy(tmp_path: Path) -> Iterator[Deploy]:
    made: list[Container] = []

    def deploy(**overrides: object) -> Container:
        made.append(built(make_settings(tmp_path / f"velora{len(made)}", **overrides)))
        return made[-1]

    yield deploy
    for container in made:
        container.close()
