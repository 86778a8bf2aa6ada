"""The account scenarios on real servers (PostgreSQL event store, MariaDB read models), mailing
through a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.account_scenarios import (
    AccountLimitScenarios,
    AccountScenarios,
    Deploy,
    account_settings,
)
from tests.e2e.backends import OnServers
from tests.mailbox import Inbox, smtp_server


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def servers_deploy(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
    inbox: Inbox,
) -> Iterator[Deploy]:
    """Deployments on fresh PostgreSQL and MariaDB databases of their own."""
    made: list[Container] = []

    def deploy(**overrides: object) -> Container:
        settings = make_settings(
            tmp_path_factory.mktemp("velora"),
            eventstore_url=new_pg_database(),
            read_db_url=new_mysql_database(),
            **account_settings(inbox, **overrides),
        )
        made.append(built(settings))
        return made[-1]

    yield deploy
    for container in made:
        container.close()


@pytest.fixture(scope="module")
def servers_container(servers_deploy: Deploy) -> Container:
    """This module's one deployment the scenarios share, its mail going to `inbox`."""
    return servers_deploy()


class TestAccountsOnServers(OnServers, AccountScenarios):
    @pytest.fixture
    def deploy(self, servers_deploy: Deploy) -> Deploy:
        return servers_deploy


class TestAccountLimitsOnServers(AccountLimitScenarios):
    @pytest.fixture
    def deploy(self, servers_deploy: Deploy) -> Deploy:
        return servers_deploy
