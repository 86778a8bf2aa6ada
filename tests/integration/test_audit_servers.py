"""The audit and privacy scenarios on PostgreSQL + MariaDB."""

from __future__ import annotations

from tests.e2e.audit_scenarios import AuditScenarios
from tests.e2e.backends import OnServers
from tests.e2e.privacy_scenarios import PrivacyScenarios


class TestAuditOnServers(OnServers, AuditScenarios):
    pass


class TestPrivacyOnServers(OnServers, PrivacyScenarios):
    pass
