from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventstore.log import EventLog, open_event_log
from tests.contract.eventstore_contract import (
    AggregateCacheContract,
    AsOfContract,
    ChainContract,
    EventStoreContract,
)


class TestSQLiteEventStore(EventStoreContract, AggregateCacheContract):
    position_column = "rowid"

    @pytest.fixture
    def log(self, tmp_path: Path) -> Iterator[EventLog]:
        log = open_event_log(None, tmp_path)
        log.migrate()
        self.path = tmp_path / "events.sqlite3"
        yield log
        log.close()

    def open_other(self) -> EventLog:
        return open_event_log(None, self.path.parent)

    def raw_sql(self, log: EventLog, statement: str) -> Any:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(statement)


REFUSE = "SELECT RAISE(ABORT, 'velora: stored events are immutable')"


class TestSQLiteChain(ChainContract, AsOfContract):
    position_column = "rowid"
    # SQLite has no superuser and no way to disable a trigger: whoever holds the file drops the
    # guards and puts them back.
    events_guard = (
        "DROP TRIGGER velora_immutable_update; DROP TRIGGER velora_immutable_delete",
        f"CREATE TRIGGER velora_immutable_update BEFORE UPDATE ON velora_events BEGIN {REFUSE}; "
        f"END; CREATE TRIGGER velora_immutable_delete BEFORE DELETE ON velora_events BEGIN "
        f"{REFUSE}; END",
    )

    @pytest.fixture
    def chained_log(self, tmp_path: Path) -> Iterator[EventLog]:
        log = open_event_log(None, tmp_path)
        log.migrate()
        self.path = tmp_path / "events.sqlite3"
        yield log
        log.close()

    def superuser_sql(self, statement: str) -> Any:
        with sqlite3.connect(self.path) as conn:
            return conn.executescript(statement)

    def replaced(self, column: str, old: str, new: str) -> str:
        return f"CAST(replace(CAST({column} AS TEXT), '{old}', '{new}') AS BLOB)"
