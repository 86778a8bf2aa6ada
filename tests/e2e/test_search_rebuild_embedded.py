from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.rebuild_scenarios import SearchRebuildScenarios


class TestSearchRebuildEmbedded(Embedded, SearchRebuildScenarios):
    pass
