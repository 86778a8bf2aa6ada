from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.client import Api
from tests.e2e.search_scenarios import SearchScenarios


class TestSearchEmbedded(SearchScenarios):
    @pytest.fixture
    def container(self, embedded: Container) -> Container:
        return embedded

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)
