"""The tax scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.tax_scenarios import TaxScenarios


class TestTaxOnServers(OnServers, TaxScenarios):
    pass
