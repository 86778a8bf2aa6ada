from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.privacy_scenarios import PrivacyScenarios


class TestPrivacyEmbedded(Embedded, PrivacyScenarios):
    pass
