from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.rebuild_scenarios import ModelRebuildScenarios


class TestModelRebuildEmbedded(Embedded, ModelRebuildScenarios):
    pass
