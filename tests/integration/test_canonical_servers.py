"""The currency and name scenarios on real servers: PostgreSQL and MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.canonical_scenarios import CanonicalScenarios


class TestCanonicalOnServers(OnServers, CanonicalScenarios):
    pass
