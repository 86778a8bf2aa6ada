"""Generated requests from the app's own OpenAPI schema, on the embedded default, sent as every
role API.md names and as nobody: whatever arrives, the answer is never a 5xx, and every error is
problem+json."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from tests.conftest import built, make_settings
from tests.e2e.fuzz import ROLES, check, staffed

container = built(make_settings(Path(tempfile.mkdtemp(prefix="velora-fuzz-"))))
HEADERS = staffed(container)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(container))


def setup_module() -> None:
    container.start_projections()


def teardown_module() -> None:
    container.close()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    for role in ROLES:  # the same request from each caller in turn
        check(case, case.call(headers=HEADERS[role]))
