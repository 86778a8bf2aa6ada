"""The promotion scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.promotion_scenarios import PromotionScenarios


class TestPromotionsOnServers(OnServers, PromotionScenarios):
    pass
