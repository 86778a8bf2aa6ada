from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.category_scenarios import CategoryScenarios


class TestCategoriesEmbedded(Embedded, CategoryScenarios):
    pass
