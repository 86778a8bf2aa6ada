from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.shipping_scenarios import ShippingScenarios


class TestShippingEmbedded(Embedded, ShippingScenarios):
    pass
