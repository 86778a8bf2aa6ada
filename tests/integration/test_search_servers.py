"""The search scenarios and the rebuilds of the search index and the SQL read models, on
PostgreSQL + MariaDB with the embedded index."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from api.bootstrap import Container
from projections.rebuild import RebuildRunning, lock_name
from tests.e2e.backends import OnServers
from tests.e2e.client import Api
from tests.e2e.rebuild_scenarios import (
    ModelRebuildScenarios,
    SearchRebuildScenarios,
    leftovers,
    live_rows,
)
from tests.e2e.search_scenarios import SearchScenarios


class TestSearchOnServers(OnServers, SearchScenarios):
    pass


class TestSearchRebuildOnServers(OnServers, SearchRebuildScenarios):
    pass


class TestModelRebuildOnServers(OnServers, ModelRebuildScenarios):
    def test_a_rebuild_whose_lock_connection_was_killed_stops_before_its_swap(
        self, api: Api, root: str, container: Container
    ) -> None:
        before = self.settled_trade(api, root, container)
        store = container.read_store
        killed: list[int] = []

        def kill_the_lock_holder(phase: str, done: int, total: int) -> None:
            if phase != "build" or killed:
                return
            with store.engine.connect() as conn:
                holder = conn.execute(sa.text("SELECT IS_USED_LOCK(:n)"), {"n": lock_name(store)})
                killed.append(int(holder.scalar_one()))
                conn.execute(sa.text(f"KILL {killed[0]}"))

        with pytest.raises(RebuildRunning, match="went with its connection"):
            container.operations.rebuild_models(
                ["sellers", "catalog"], on_progress=kill_the_lock_holder
            )
        assert live_rows(container) == before
        report = container.operations.rebuild_models(["sellers", "catalog"])  # clears what it left
        assert report.swapped and report.differences == []
        assert live_rows(container) == before and leftovers(container) == []
