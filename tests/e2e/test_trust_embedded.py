"""The trust-at-the-edges scenarios on the embedded default."""

from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.trust_scenarios import (
    InputScenarios,
    LeakScenarios,
    RoleScenarios,
    TrustScenarios,
)


class TestTrustEmbedded(Embedded, TrustScenarios, InputScenarios, LeakScenarios, RoleScenarios):
    pass
