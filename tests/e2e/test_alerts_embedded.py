from __future__ import annotations

from tests.e2e.alert_scenarios import AlertScenarios
from tests.e2e.backends import Embedded


class TestAlertsEmbedded(Embedded, AlertScenarios):
    pass
