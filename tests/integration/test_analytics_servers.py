"""The analytics scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.analytics_scenarios import AnalyticsScenarios
from tests.e2e.backends import OnServers


class TestAnalyticsOnServers(OnServers, AnalyticsScenarios):
    pass
