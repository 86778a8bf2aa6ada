"""The abuse limits on the embedded default: counted in the process's memory."""

from __future__ import annotations

import pytest

from tests.e2e.limit_scenarios import Deploy, LimitScenarios, embedded_deploy

__all__ = ["embedded_deploy"]


class TestLimitsEmbedded(LimitScenarios):
    @pytest.fixture
    def deploy(self, embedded_deploy: Deploy) -> Deploy:
        return embedded_deploy
