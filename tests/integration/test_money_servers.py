"""Escrow and the ledger on PostgreSQL + MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.e2e.client import Api
from tests.e2e.money_scenarios import (
    MoneyScenarios,
    PayoutScenarios,
    RefundScenarios,
    ReportScenarios,
    WebhookScenarios,
)


class TestMoneyOnServers(
    MoneyScenarios, WebhookScenarios, RefundScenarios, PayoutScenarios, ReportScenarios
):
    @pytest.fixture
    def container(self, servers_container: Container) -> Container:
        return servers_container

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)
