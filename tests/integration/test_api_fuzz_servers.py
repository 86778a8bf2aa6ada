"""The generated-request run on PostgreSQL + MariaDB, as every role and as nobody: the same
answers as on the embedded default, never a 5xx. Driven through each operation's hypothesis
strategy, as the servers' databases exist only once the fixtures have made them."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.fuzz import ROLES, check, staffed


def test_no_generated_request_gets_a_server_error(servers_container: Container) -> None:
    headers = staffed(servers_container)
    servers_container.start_projections()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(servers_container))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    sent = 0
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def each_caller_sends(case: schemathesis.Case) -> None:
            nonlocal sent
            for role in ROLES:  # the same request from each caller in turn
                check(case, case.call(headers=headers[role]))
                sent += 1

        each_caller_sends()
    assert sent >= len(operations) * len(ROLES)
