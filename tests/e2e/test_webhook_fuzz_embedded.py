from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.webhook_fuzz_scenarios import WebhookFuzzScenarios


class TestWebhookFuzzEmbedded(Embedded, WebhookFuzzScenarios):
    pass
