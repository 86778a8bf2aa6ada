from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from eventstore.context import CommandContext
from tests.conftest import built, make_settings
from tests.e2e.backends import Embedded
from tests.e2e.client import Api, assert_problem
from tests.e2e.identity_scenarios import PASSWORD, IdentityScenarios


class TestIdentityEmbedded(Embedded, IdentityScenarios):
    pass


def test_idempotency_keys_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "velora")
    body = {"name": "Durable", "currency": "USD", "commission_bps": 0, "escrow_hold_days": 0}
    first_container = built(settings)
    root = first_container.identity.ensure_superuser(
        CommandContext.system("test"), email="root@x.test", password=PASSWORD
    )
    with TestClient(create_app(first_container, run_projections=True)) as http:
        api = Api(http)
        api.position = root.position
        token = api.sign_in("root@x.test", PASSWORD)
        first = api.post("/v1/tenants", token=token, json=body, key="k-restart")
    first_container.close()

    second_container = built(settings)
    try:
        with TestClient(create_app(second_container, run_projections=True)) as http:
            again = Api(http).post("/v1/tenants", token=token, json=body, key="k-restart")
            assert again.status_code == 201 and again.json() == first.json()
            assert again.headers["Idempotent-Replayed"] == "true"
            assert second_container.log.head() == int(first.headers["X-Velora-Position"])
    finally:
        second_container.close()


def test_a_read_model_that_cannot_catch_up_answers_503_with_retry_after(
    embedded: Container,
) -> None:
    # No projectors run in this app, so the read models never reach a real, committed position.
    written = embedded.identity.ensure_superuser(
        CommandContext.system("test"), email="slow@x.test", password=PASSWORD
    )
    with TestClient(create_app(embedded, run_projections=False)) as http:
        wait = {"X-Velora-Min-Position": str(written.position)}
        assert_problem(http.get("/v1/me", headers=wait), 401)  # who you are comes first
        # Signing in reads the account where it is written: no read model needs to catch up.
        signed_in = http.post("/v1/auth/token", json={"email": "slow@x.test", "password": PASSWORD})
        assert signed_in.status_code == 200, signed_in.text
        token = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        response = http.get("/v1/me", headers={**token, **wait})
        assert_problem(response, 503)
        assert response.headers["Retry-After"] == "1"
        # A position the log never issued is the client's mistake, answered at once.
        beyond = {"X-Velora-Min-Position": str(written.position + 1000)}
        assert_problem(http.get("/v1/me", headers={**token, **beyond}), 422)
