"""The restore drill on real servers: pg_dump of the PostgreSQL event store while it is
written, pg_restore into a fresh database, read models folded again into a fresh MariaDB."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from api.bootstrap import Container
from api.settings import Settings
from tests.conftest import make_settings
from tests.e2e.backends import OnServers
from tests.e2e.backup_scenarios import BackupScenarios, Fresh


class TestBackupOnServers(OnServers, BackupScenarios):
    @pytest.fixture
    def fresh(
        self,
        tmp_path: Path,
        container: Container,
        new_pg_database: Callable[[], str],
        new_mysql_database: Callable[[], str],
    ) -> Fresh:
        """Settings for a new, empty deployment: fresh databases, the same media bucket."""
        count = itertools.count()
        s = container.settings

        def make() -> Settings:
            return make_settings(
                tmp_path / f"restored-{next(count)}" / "velora",
                eventstore_url=new_pg_database(),
                read_db_url=new_mysql_database(),
                s3_bucket=s.s3_bucket,
                s3_endpoint_url=s.s3_endpoint_url,
                s3_access_key_id=s.s3_access_key_id,
                s3_secret_access_key=s.s3_secret_access_key,
            )

        return make
