from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.dispute_scenarios import DisputeScenarios


class TestDisputesEmbedded(Embedded, DisputeScenarios):
    pass
