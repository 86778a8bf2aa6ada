"""The header scenarios on real servers: PostgreSQL, MariaDB, and images in an S3 bucket."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.header_scenarios import HeaderScenarios


class TestHeadersOnServers(OnServers, HeaderScenarios):
    pass
