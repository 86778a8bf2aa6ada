from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.header_scenarios import HeaderScenarios


class TestHeadersEmbedded(Embedded, HeaderScenarios):
    pass
