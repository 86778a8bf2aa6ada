"""The guest checkout scenarios on real servers (PostgreSQL event store, MariaDB read models),
mailing through a real SMTP server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.account_scenarios import account_settings
from tests.e2e.backends import OnServers
from tests.e2e.guest_checkout_scenarios import GuestCheckoutScenarios
from tests.mailbox import Inbox, smtp_server


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def servers_container(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
    inbox: Inbox,
) -> Iterator[Container]:
    container = built(
        make_settings(
            tmp_path_factory.mktemp("velora"),
            eventstore_url=new_pg_database(),
            read_db_url=new_mysql_database(),
            **account_settings(inbox),
        )
    )
    yield container
    container.close()


class TestGuestCheckoutOnServers(OnServers, GuestCheckoutScenarios):
    pass
