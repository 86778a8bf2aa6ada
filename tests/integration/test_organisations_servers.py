"""The Seller Pro scenarios on real servers: PostgreSQL event store, MariaDB read models."""

from __future__ import annotations

from tests.e2e.backends import OnServers
from tests.e2e.master_image_scenarios import MasterImageScenarios


class TestOrganisationsOnServers(OnServers, MasterImageScenarios):
    pass
