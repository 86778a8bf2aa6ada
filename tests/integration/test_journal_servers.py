"""The accounting journal on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.journal_scenarios import JournalScenarios


class TestJournalOnServers(OnServers, JournalScenarios):
    pass
