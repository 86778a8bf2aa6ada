from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.master_image_scenarios import MasterImageScenarios


class TestOrganisationsEmbedded(Embedded, MasterImageScenarios):
    pass
