"""The guest and publishable-key scenarios on real servers (PostgreSQL event store, MariaDB read
models)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.backends import OnServers
from tests.e2e.guest_scenarios import Deploy, GuestLimitScenarios, GuestScenarios


class TestGuestsOnServers(OnServers, GuestScenarios):
    pass


class TestGuestLimitsOnServers(GuestLimitScenarios):
    @pytest.fixture
    def deploy(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        new_pg_database: Callable[[], str],
        new_mysql_database: Callable[[], str],
    ) -> Iterator[Deploy]:
        """Deployments on fresh PostgreSQL and MariaDB databases of their own."""
        made: list[Container] = []

        def deploy(**overrides: object) -> Container:
            settings = make_settings(
                tmp_path_factory.mktemp("velora"),
                eventstore_url=new_pg_database(),
                read_db_url=new_mysql_database(),
                **overrides,
            )
            made.append(built(settings))
            return made[-1]

        yield deploy
        for container in made:
            container.close()
