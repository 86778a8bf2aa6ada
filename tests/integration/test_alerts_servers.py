"""The stock alert scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.alert_scenarios import AlertScenarios
from tests.e2e.backends import OnServers


class TestAlertsOnServers(OnServers, AlertScenarios):
    pass
