"""The identity scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.identity_scenarios import IdentityScenarios


class TestIdentityOnServers(OnServers, IdentityScenarios):
    pass
