"""The quarantine and supervision scenarios on real servers: PostgreSQL event store, MariaDB
read models (MariaDB refuses the poison with DataError 1264, SQLite with OverflowError)."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.quarantine_scenarios import QuarantineScenarios


class TestQuarantineOnServers(OnServers, QuarantineScenarios):
    pass
