"""The organisation's queue and dashboard on real servers: PostgreSQL event store, MariaDB read
models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.organisation_dashboard_scenarios import OrganisationDashboardScenarios


class TestOrganisationDashboardOnServers(OnServers, OrganisationDashboardScenarios):
    pass
