from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.promotion_scenarios import PromotionScenarios


class TestPromotionsEmbedded(Embedded, PromotionScenarios):
    pass
