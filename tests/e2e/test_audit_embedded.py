from __future__ import annotations

from tests.e2e.audit_scenarios import AuditScenarios
from tests.e2e.backends import Embedded


class TestAuditEmbedded(Embedded, AuditScenarios):
    pass
