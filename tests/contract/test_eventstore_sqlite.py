from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventstore.log import EventLog, open_event_log
from tests.contract.eventstore_contract import EventStoreContract


class TestSQLiteEventStore(EventStoreContract):
    position_column = "rowid"

    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[EventLog]:
        log = open_event_log(None, tmp_path)
        log.migrate()
        self.path = tmp_path / "events.sqlite3"
        yield log
        log.close()

    def raw_sql(self, log: EventLog, statement: str) -> Any:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(statement)
