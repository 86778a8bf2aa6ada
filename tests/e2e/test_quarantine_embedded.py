from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.quarantine_scenarios import QuarantineScenarios


class TestQuarantineEmbedded(Embedded, QuarantineScenarios):
    pass
