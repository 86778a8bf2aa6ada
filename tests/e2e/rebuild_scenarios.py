"""Rebuilding the search index while the marketplace keeps running. Each backend set runs these
same scenarios."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from api.bootstrap import Container
from projections.scope import TenantScope
from projections.search.port import ProductDocument, SearchQuery
from projections.search.projector import changes
from projections.tables import products
from tests.e2e.backends import VELORA, cli_env
from tests.e2e.client import Api
from tests.e2e.shop import Shop


def indexed(container: Container) -> dict[str, ProductDocument]:
    found = container.search.search(TenantScope.every_tenant(), SearchQuery(limit=500))
    assert found.total <= 500
    return {d.product_id: d for d in found.items}


def expected(container: Container) -> dict[str, ProductDocument]:
    """Every searchable product as the catalog read model holds it now."""
    with container.read_store.read() as conn:
        rows = [r._mapping for r in conn.execute(sa.select(products))]
    upserts, _ = changes(rows)
    return {d.product_id: d for d in upserts}


class SearchRebuildScenarios(Shop):
    def catalog(self, api: Api, root: str, count: int) -> tuple[str, str, set[str]]:
        _, seller, _, buyer, _ = self.shop(api, root)
        ids = {self.stocked(api, seller, 3, 1000 + i, title=f"Vase {i}") for i in range(count)}
        return buyer, seller, ids

    def test_searches_stay_complete_while_the_cli_rebuilds_the_index(
        self, api: Api, root: str, container: Container
    ) -> None:
        buyer, _, ids = self.catalog(api, root, 40)
        params = {"q": "vase", "limit": 500}
        first = api.get("/v1/search/products", token=buyer, params=params).json()
        assert {i["id"] for i in first["items"]} == ids
        before = container.search.generation()

        answers: list[tuple[float, int, set[str]]] = []
        stop = threading.Event()
        failures: list[BaseException] = []

        def search_continuously() -> None:
            try:
                while not stop.is_set():
                    r = api.http.get(
                        "/v1/search/products",
                        params=params,
                        headers={"Authorization": f"Bearer {buyer}"},
                    )
                    body = r.json()
                    answers.append(
                        (time.monotonic(), r.status_code, {i["id"] for i in body["items"]})
                    )
            except BaseException as e:  # reported below, in the test's own thread
                failures.append(e)

        searcher = threading.Thread(target=search_continuously)
        searcher.start()
        try:
            time.sleep(0.2)
            rebuilt = subprocess.run(
                [VELORA, "projections", "rebuild", "search"],
                env=cli_env(container),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            switched_at = time.monotonic()
            deadline = switched_at + 30
            while sum(1 for t, _, _ in answers if t > switched_at) < 20 and not failures:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        finally:
            stop.set()
            searcher.join(timeout=30)
        assert not failures, failures
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        assert container.search.generation() != before
        assert container.search.generation() in rebuilt.stdout
        # Every answer, before, during and after the switch, held the whole catalog.
        assert len(answers) > 20
        assert all(status == 200 and found == ids for _, status, found in answers)
        assert sum(1 for t, _, _ in answers if t > switched_at) >= 20

    def test_changes_made_during_a_rebuild_reach_the_new_index(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, ids = self.catalog(api, root, 12)
        some = sorted(ids)
        made: dict[str, Any] = {}

        def change_things_mid_rebuild(phase: str, done: int, total: int) -> None:
            # Once, while the snapshot is being indexed: an edit, a stock change, a new product.
            if phase != "snapshot" or made:
                return
            made["edited"] = some[0]
            api.request("PATCH", f"/v1/products/{some[0]}", token=seller, json={"title": "Urn"})
            api.post(
                f"/v1/products/{some[1]}/stock",
                token=seller,
                json={"warehouse": "main", "on_hand": 0},
            )
            made["new"] = self.product(api, seller, title="Vase new")

        before = container.search.generation()
        report = container.rebuild_search(change_things_mid_rebuild)
        assert report.previous == before and report.generation == container.search.generation()

        # Once caught up, the new index must hold exactly what the catalog holds.
        assert container.wait_for_projections(container.log.head(), ("search",), 10)
        assert indexed(container) == expected(container)
        titles = {d.title for d in indexed(container).values()}
        assert "Urn" in titles and "Vase new" in titles
        assert indexed(container)[some[1]].available == 0
        assert container.read_store.position("search") == container.log.head()

    def test_a_failed_rebuild_leaves_the_live_index_serving(
        self, api: Api, root: str, container: Container
    ) -> None:
        buyer, _, ids = self.catalog(api, root, 3)
        assert container.wait_for_projections(container.log.head(), ("search",), 10)
        before = container.search.generation()
        live = indexed(container)

        def fail(phase: str, done: int, total: int) -> None:
            raise RuntimeError("operator pressed ctrl-c")

        with pytest.raises(RuntimeError, match="ctrl-c"):
            container.rebuild_search(fail)
        assert container.search.generation() == before
        assert indexed(container) == live
        assert not [n for n in container.read_store.positions() if n.startswith("search@")]
        found = api.get("/v1/search/products", token=buyer, params={"q": "vase"}).json()
        assert {i["id"] for i in found["items"]} == ids

    def test_replaying_the_whole_log_into_the_live_index_changes_nothing(
        self, api: Api, root: str, container: Container
    ) -> None:
        buyer, seller, ids = self.catalog(api, root, 4)
        edited = sorted(ids)[0]
        api.request(
            "PATCH",
            f"/v1/products/{edited}",
            token=seller,
            json={"price": {"amount": 5, "currency": "USD"}},
        )
        assert container.wait_for_projections(container.log.head(), ("search",), 10)
        before = indexed(container)
        assert before == expected(container) and before[edited].price_minor == 5
        container.stop_projections()
        with container.read_store.begin() as conn:
            container.read_store.place(conn, "search", 0)  # as after losing the tracking row
        container.runner("search").catch_up()
        assert indexed(container) == before
        found = api.get("/v1/search/products", token=buyer, params={"q": "vase"}).json()
        assert {i["id"] for i in found["items"]} == ids
