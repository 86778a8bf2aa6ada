"""The category scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.category_scenarios import CategoryScenarios


class TestCategoriesOnServers(OnServers, CategoryScenarios):
    pass
