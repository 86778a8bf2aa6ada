"""Where a scenario class runs: mix one of these in before the scenarios."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.client import Api


class Served:
    """The API over `container`, with the projectors and scheduler running as `velora serve`
    runs them."""

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)


class Embedded(Served):
    """The embedded default: SQLite event store and read models, tantivy search."""

    @pytest.fixture
    def container(self, embedded: Container) -> Container:
        return embedded


class OnServers(Served):
    """PostgreSQL event store and MariaDB read models (shared by a module's tests)."""

    @pytest.fixture
    def container(self, servers_container: Container) -> Container:
        assert servers_container.log.backend == "postgres"
        assert servers_container.read_store.backend == "mysql"
        return servers_container
