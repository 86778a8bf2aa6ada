from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.search_scenarios import SearchScenarios


class TestSearchEmbedded(Embedded, SearchScenarios):
    pass
