"""The audit scenarios on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.audit_scenarios import AuditScenarios
from tests.e2e.backends import OnServers


class TestAuditOnServers(OnServers, AuditScenarios):
    pass
