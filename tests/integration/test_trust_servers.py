"""The trust-at-the-edges scenarios on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.trust_scenarios import (
    InputScenarios,
    LeakScenarios,
    RoleScenarios,
    TrustScenarios,
)


class TestTrustOnServers(OnServers, TrustScenarios, InputScenarios, LeakScenarios, RoleScenarios):
    pass
