"""The shipping scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.shipping_scenarios import ShippingScenarios


class TestShippingOnServers(OnServers, ShippingScenarios):
    pass
