"""The variant scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.variant_scenarios import VariantScenarios


class TestVariantsOnServers(OnServers, VariantScenarios):
    pass
