"""What the relay publishes, on the embedded default (SQLite), through the in-memory broker."""

from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.publication_scenarios import PublicationScenarios


class TestPublicationEmbedded(Embedded, PublicationScenarios):
    pass
