from __future__ import annotations

from tests.e2e.backends import Embedded
from tests.e2e.profile_scenarios import ProfileScenarios


class TestProfilesEmbedded(Embedded, ProfileScenarios):
    pass
