from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migrations import runner as migrate
from projections.store import ReadStore, make_engine
from tests.contract.readstore_contract import ReadStoreContract


class TestSQLiteReadStore(ReadStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ReadStore]:
        store = ReadStore(make_engine(None, tmp_path))
        migrate.upgrade(store.engine)
        yield store
        store.engine.dispose()
