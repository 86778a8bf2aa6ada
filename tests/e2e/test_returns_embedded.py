from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.return_scenarios import ReturnScenarios


class TestReturnsEmbedded(Embedded, ReturnScenarios):
    pass
