"""Escrow and the ledger on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.money_scenarios import (
    MoneyScenarios,
    PayoutScenarios,
    RefundScenarios,
    ReportScenarios,
    WebhookScenarios,
)


class TestMoneyOnServers(
    OnServers, MoneyScenarios, WebhookScenarios, RefundScenarios, PayoutScenarios, ReportScenarios
):
    pass
