"""The provider bounds scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.provider_bounds_scenarios import ProviderBoundsScenarios


class TestProviderBoundsOnServers(OnServers, ProviderBoundsScenarios):
    pass
