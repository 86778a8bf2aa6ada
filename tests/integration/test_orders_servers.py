"""The order scenarios on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.order_scenarios import OrderScenarios


class TestOrdersOnServers(OnServers, OrderScenarios):
    pass
