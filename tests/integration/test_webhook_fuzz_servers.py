"""Generated hostile webhooks on PostgreSQL + MariaDB (MariaDB refuses out-of-range values that
SQLite takes: the one backend that once stopped on them)."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.webhook_fuzz_scenarios import WebhookFuzzScenarios


class TestWebhookFuzzOnServers(OnServers, WebhookFuzzScenarios):
    pass
