from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.featured_scenarios import FeaturedScenarios


class TestFeaturedEmbedded(Embedded, FeaturedScenarios):
    pass
