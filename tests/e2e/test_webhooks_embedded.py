from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.backends import Embedded
from tests.e2e.webhook_scenarios import SETTINGS, WebhookScenarios, WebhookUrlScenarios


class TestWebhooksEmbedded(Embedded, WebhookScenarios):
    @pytest.fixture
    def container(self, tmp_path: Path) -> Iterator[Container]:
        container = built(make_settings(tmp_path / "velora", **SETTINGS))
        yield container
        container.close()


class TestWebhookUrlsEmbedded(Embedded, WebhookUrlScenarios):
    pass
