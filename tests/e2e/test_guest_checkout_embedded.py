"""The guest checkout scenarios on the embedded default, mailing through a real SMTP server
(the email verification that joins a guest's orders to an account is read out of the mail)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.account_scenarios import account_settings
from tests.e2e.backends import Embedded
from tests.e2e.guest_checkout_scenarios import GuestCheckoutScenarios
from tests.mailbox import Inbox, smtp_server


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as server:
        yield server


class TestGuestCheckoutEmbedded(Embedded, GuestCheckoutScenarios):
    @pytest.fixture
    def container(self, tmp_path: Path, inbox: Inbox) -> Iterator[Container]:
        container = built(make_settings(tmp_path / "velora", **account_settings(inbox)))
        yield container
        container.close()
