from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from api.settings import Settings
from tests.conftest import make_settings
from tests.e2e.backends import Embedded
from tests.e2e.backup_scenarios import BackupScenarios, Fresh


class TestBackupEmbedded(Embedded, BackupScenarios):
    @pytest.fixture
    def fresh(self, tmp_path: Path) -> Fresh:
        """Settings for a new, empty deployment on the embedded default."""
        count = itertools.count()

        def make() -> Settings:
            return make_settings(tmp_path / f"restored-{next(count)}" / "velora")

        return make
