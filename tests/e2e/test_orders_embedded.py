from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.order_scenarios import OrderScenarios


class TestOrdersEmbedded(Embedded, OrderScenarios):
    pass
