from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.catalog_scenarios import CatalogScenarios


class TestCatalogEmbedded(Embedded, CatalogScenarios):
    pass
