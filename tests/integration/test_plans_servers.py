"""The seller plan scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.plan_scenarios import PlanScenarios


class TestPlansOnServers(OnServers, PlanScenarios):
    pass
