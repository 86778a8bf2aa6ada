from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.provider_bounds_scenarios import ProviderBoundsScenarios


class TestProviderBoundsEmbedded(Embedded, ProviderBoundsScenarios):
    pass
