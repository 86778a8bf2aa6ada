"""The return scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.return_scenarios import ReturnScenarios


class TestReturnsOnServers(OnServers, ReturnScenarios):
    pass
