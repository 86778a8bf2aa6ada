"""The search scenarios, rebuilds included, on PostgreSQL + MariaDB with the embedded index."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.client import Api
from tests.e2e.rebuild_scenarios import SearchRebuildScenarios
from tests.e2e.search_scenarios import SearchScenarios


class OnServers:
    @pytest.fixture
    def container(self, servers_container: Container) -> Container:
        return servers_container

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)


class TestSearchOnServers(OnServers, SearchScenarios):
    pass


class TestSearchRebuildOnServers(OnServers, SearchRebuildScenarios):
    pass
