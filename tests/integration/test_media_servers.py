"""The media scenarios on real servers: PostgreSQL, MariaDB, and images in an S3 bucket on
moto's S3 server."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.media_scenarios import MediaScenarios


class TestMediaOnServers(OnServers, MediaScenarios):
    pass
