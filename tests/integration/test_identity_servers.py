"""The identity scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.client import Api
from tests.e2e.identity_scenarios import IdentityScenarios


class TestIdentityOnServers(IdentityScenarios):
    @pytest.fixture
    def container(self, servers_container: Container) -> Container:
        assert servers_container.log.backend == "postgres"
        assert servers_container.read_store.backend == "mysql"
        return servers_container

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)
