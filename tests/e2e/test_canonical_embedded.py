from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.canonical_scenarios import CanonicalScenarios


class TestCanonicalEmbedded(Embedded, CanonicalScenarios):
    pass
