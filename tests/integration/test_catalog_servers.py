"""The sellers and catalog scenarios on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.catalog_scenarios import CatalogScenarios


class TestCatalogOnServers(OnServers, CatalogScenarios):
    pass
