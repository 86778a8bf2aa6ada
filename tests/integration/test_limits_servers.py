"""The abuse limits on PostgreSQL + MariaDB with Redis: the counters are shared, so several API
processes (here, two containers on the same servers) enforce one limit between them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from eventstore.context import CommandContext
from tests.conftest import built, make_settings
from tests.e2e.client import assert_problem
from tests.e2e.limit_scenarios import TIGHT, Deploy, LimitScenarios, limited
from tests.e2e.world import PASSWORD


@pytest.fixture
def servers_deploy(
    tmp_path: Path,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
    redis_server: str,
) -> Iterator[Deploy]:
    urls = {"eventstore_url": new_pg_database(), "read_db_url": new_mysql_database()}
    # One deployment's counters, apart from every other test's (and run's) in the same Redis.
    prefix = f"velora-test-{uuid4().hex}"
    made: list[Container] = []

    def deploy(**overrides: object) -> Container:
        settings = make_settings(
            tmp_path / f"velora{len(made)}",
            redis_url=redis_server,
            redis_key_prefix=prefix,
            **urls,
            **overrides,
        )
        made.append(built(settings))
        return made[-1]

    yield deploy
    for container in made:
        container.close()


class TestLimitsOnServers(LimitScenarios):
    @pytest.fixture
    def deploy(self, servers_deploy: Deploy) -> Deploy:
        return servers_deploy


def test_two_api_processes_count_one_limit_between_them(servers_deploy: Deploy) -> None:
    one, two = servers_deploy(**TIGHT), servers_deploy(**TIGHT)
    email = f"root-{uuid4().hex[:8]}@velora.dev"
    one.identity.ensure_superuser(CommandContext.system("test"), email=email, password=PASSWORD)
    wrong = {"email": email, "password": "not-the-password"}
    with (
        TestClient(create_app(one, run_projections=False)) as first,
        TestClient(create_app(two, run_projections=False)) as second,
    ):
        assert_problem(first.post("/v1/auth/token", json=wrong), 401)
        assert_problem(second.post("/v1/auth/token", json=wrong), 401)
        assert_problem(first.post("/v1/auth/token", json=wrong), 401)
        # The fourth attempt on the account, whichever process takes it, is over the limit.
        limited(second.post("/v1/auth/token", json={"email": email, "password": PASSWORD}))


def test_with_its_redis_away_velora_says_so_and_answers_503_not_500(
    tmp_path: Path, redis_server: str
) -> None:
    container = built(make_settings(tmp_path / "velora", redis_url="redis://127.0.0.1:1/0"))
    try:
        with TestClient(create_app(container, run_projections=False)) as http:
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["rate_limits"] == "unavailable"
            attempt = http.post("/v1/auth/token", json={"email": "a@b.test", "password": "x"})
            assert_problem(attempt, 503)
            assert attempt.headers["Retry-After"]
    finally:
        container.close()
    reachable = built(make_settings(tmp_path / "ok", redis_url=redis_server))
    try:
        with TestClient(create_app(reachable, run_projections=False)) as http:
            assert http.get("/readyz").json()["checks"]["rate_limits"] == "ok"
    finally:
        reachable.close()
