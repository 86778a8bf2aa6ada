from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.media_scenarios import MediaScenarios


class TestMediaEmbedded(Embedded, MediaScenarios):
    pass
