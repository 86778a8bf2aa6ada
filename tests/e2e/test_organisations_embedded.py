from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.organisation_scenarios import MasterCatalogScenarios


class TestOrganisationsEmbedded(Embedded, MasterCatalogScenarios):
    pass
