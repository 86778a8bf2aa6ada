"""Generated requests from the app's own OpenAPI schema, signed in as a super admin so the guarded
paths are reached too: whatever arrives, the answer is never a 5xx, and every error is
problem+json."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from domain.base import PLATFORM_TENANT_ID
from eventstore.context import CommandContext
from tests.conftest import built, make_settings

container = built(make_settings(Path(tempfile.mkdtemp(prefix="velora-fuzz-"))))
root = container.identity.ensure_superuser(
    CommandContext.system("fuzz"), email="root@fuzz.test", password="long-enough-pw"
)
TOKEN = container.tokens.issue(str(root.id), str(PLATFORM_TENANT_ID), ["super_admin"])
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(container))


def setup_module() -> None:
    container.start_projections()


def teardown_module() -> None:
    container.close()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"][0]
        assert content_type.startswith("application/problem+json")
        assert response.json()["status"] == response.status_code
