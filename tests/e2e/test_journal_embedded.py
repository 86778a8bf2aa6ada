from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.journal_scenarios import JournalScenarios


class TestJournalEmbedded(Embedded, JournalScenarios):
    pass
