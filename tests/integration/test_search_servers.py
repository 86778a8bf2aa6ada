"""The search scenarios and the rebuilds of the search index and the SQL read models, on
PostgreSQL + MariaDB with the embedded index."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.rebuild_scenarios import ModelRebuildScenarios, SearchRebuildScenarios
from tests.e2e.search_scenarios import SearchScenarios


class TestSearchOnServers(OnServers, SearchScenarios):
    pass


class TestSearchRebuildOnServers(OnServers, SearchRebuildScenarios):
    pass


class TestModelRebuildOnServers(OnServers, ModelRebuildScenarios):
    pass
