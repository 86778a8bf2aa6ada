"""The account scenarios on the embedded default (SQLite + SQLite), mailing through a real SMTP
server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.account_scenarios import (
    AccountLimitScenarios,
    AccountScenarios,
    Deploy,
    account_settings,
)
from tests.e2e.backends import Embedded
from tests.mailbox import Inbox, smtp_server


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def deploy(tmp_path: Path, inbox: Inbox) -> Iterator[Deploy]:
    made: list[Container] = []

    def deploy(**overrides: object) -> Container:
        settings = make_settings(
            tmp_path / f"velora{len(made)}", **account_settings(inbox, **overrides)
        )
        made.append(built(settings))
        return made[-1]

    yield deploy
    for container in made:
        container.close()


class TestAccountsEmbedded(Embedded, AccountScenarios):
    @pytest.fixture
    def container(self, deploy: Deploy) -> Container:
        return deploy()


class TestAccountLimitsEmbedded(AccountLimitScenarios):
    pass
