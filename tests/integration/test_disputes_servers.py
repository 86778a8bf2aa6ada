"""The dispute scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.dispute_scenarios import DisputeScenarios


class TestDisputesOnServers(OnServers, DisputeScenarios):
    pass
