from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from migrations import runner as migrate
from projections.store import ReadStore, make_engine
from tests.contract.readstore_contract import ReadStoreContract


@pytest.fixture(scope="module")
def mariadb_store(new_mysql_database: Callable[[], str]) -> Iterator[ReadStore]:
    store = ReadStore(make_engine(new_mysql_database(), Path("/nonexistent")))
    migrate.upgrade(store.engine)
    yield store
    store.engine.dispose()


class TestMariaDBReadStore(ReadStoreContract):
    @pytest.fixture
    def store(self, mariadb_store: ReadStore) -> ReadStore:
        assert mariadb_store.backend == "mysql"
        return mariadb_store
