"""The featured listing scenarios on real servers: PostgreSQL and MariaDB."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.featured_scenarios import FeaturedScenarios


class TestFeaturedOnServers(OnServers, FeaturedScenarios):
    pass
