"""The profile scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.profile_scenarios import ProfileScenarios


class TestProfilesOnServers(OnServers, ProfileScenarios):
    pass
