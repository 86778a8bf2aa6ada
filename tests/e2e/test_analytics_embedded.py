from __future__ import annotations

from tests.e2e.analytics_scenarios import AnalyticsScenarios
from tests.e2e.backends import Embedded


class TestAnalyticsEmbedded(Embedded, AnalyticsScenarios):
    pass
