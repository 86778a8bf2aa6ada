from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.variant_scenarios import VariantScenarios


class TestVariantsEmbedded(Embedded, VariantScenarios):
    pass
