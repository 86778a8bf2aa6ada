"""The guest and publishable-key scenarios on the embedded default (SQLite + SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.backends import Embedded
from tests.e2e.guest_scenarios import Deploy, GuestLimitScenarios, GuestScenarios


class TestGuestsEmbedded(Embedded, GuestScenarios):
    pass


class TestGuestLimitsEmbedded(GuestLimitScenarios):
    @pytest.fixture
    def deploy(self, tmp_path: Path) -> Iterator[Deploy]:
        made: list[Container] = []

        def deploy(**overrides: object) -> Container:
            made.append(built(make_settings(tmp_path / f"velora{len(made)}", **overrides)))
            return made[-1]

        yield deploy
        for container in made:
            container.close()
