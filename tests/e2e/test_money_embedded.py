from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.money_scenarios import (
    MoneyScenarios,
    PayoutScenarios,
    RefundScenarios,
    ReportScenarios,
    WebhookScenarios,
)


class TestMoneyEmbedded(
    Embedded, MoneyScenarios, WebhookScenarios, RefundScenarios, PayoutScenarios, ReportScenarios
):
    pass
