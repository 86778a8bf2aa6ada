from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.organisation_scenarios import OrganisationScenarios


class TestOrganisationsEmbedded(Embedded, OrganisationScenarios):
    pass
