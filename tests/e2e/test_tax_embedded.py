from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.tax_scenarios import TaxScenarios


class TestTaxEmbedded(Embedded, TaxScenarios):
    pass
