from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.organisation_dashboard_scenarios import OrganisationDashboardScenarios


class TestOrganisationDashboardEmbedded(Embedded, OrganisationDashboardScenarios):
    pass
