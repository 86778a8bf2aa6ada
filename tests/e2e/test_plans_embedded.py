from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.plan_scenarios import PlanScenarios


class TestPlansEmbedded(Embedded, PlanScenarios):
    pass
