"""Rebuilding the search index while the marketplace keeps running. Each backend set runs these
same scenarios."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from api.bootstrap import Container
from projections.catalog.tables import products
from projections.ledger.tables import ledger_accounts
from projections.rebuild import PAUSED_BY, RETIRED_SUFFIX
from projections.schema import SHADOW_SUFFIX
from projections.scope import TenantScope
from projections.search.port import ProductDocument, SearchQuery
from projections.search.projector import changes
from projections.tables import LIVE, metadata
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
        report = container.operations.rebuild_search(change_things_mid_rebuild)
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
            container.operations.rebuild_search(fail)
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
        container.operations.runner("search").catch_up()
        assert indexed(container) == before
        found = api.get("/v1/search/products", token=buyer, params={"q": "vase"}).json()
        assert {i["id"] for i in found["items"]} == ids


def live_rows(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, table by table, in primary-key order."""
    dump = {}
    with container.read_store.read() as conn:
        for table in LIVE.all():
            stmt = sa.select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(r) for r in conn.execute(stmt)]
    return dump


def leftovers(container: Container) -> list[str]:
    """Shadow or retired tables and shadow tracking rows a rebuild should not leave behind."""
    tables = sa.inspect(container.read_store.engine).get_table_names()
    tracked = container.read_store.positions()
    return [n for n in [*tables, *tracked] if n.endswith((SHADOW_SUFFIX, RETIRED_SUFFIX))]


def schema_drift(container: Container) -> list[Any]:
    """How the read-model schema differs from what the migrations declare (nothing, we hope)."""
    with container.read_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


class ModelRebuildScenarios(Shop):
    """Rebuilding the SQL read models beside the live ones while the marketplace runs."""

    def trade(self, api: Api, root: str, container: Container) -> tuple[str, str]:
        """Orders in every state money can be in: held, released, refunded, paid out."""
        m = self.marketplace(api, root, "Rebuilt", moderation="auto", hold_days=0)
        (seller_a, _), (seller_b, _) = self.approved_seller(api, m), self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        self.delivered(api, container, seller_a, buyer)
        product = self.stocked(api, seller_b, 10, 4_500)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 3})).json()
        self.pay(api, container, order["order_id"])
        refund = {"seller_order_id": order["seller_orders"][0]["id"], "reason": "dented"}
        refund["amount"] = {"amount": 1_000, "currency": "USD"}
        refund_id = api.created(api.post("/v1/refunds", token=buyer, json=refund))
        approved = api.post(f"/v1/refunds/{refund_id}/approve", token=seller_b)
        assert approved.status_code == 200, approved.text
        finance = self.platform_user(api, root, "finance_admin")
        run = api.post(
            "/v1/payouts/run", token=finance, key=f"run-{uuid4()}", json={"tenant_id": m.tenant_id}
        )
        assert run.status_code == 201 and run.json()["payouts"], run.text
        self.checkout(api, buyer, self.cart(api, buyer, {product: 1}))  # left unpaid
        return m.admin_token, order["order_id"]

    def settled_trade(
        self, api: Api, root: str, container: Container
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Trades, then stops the projectors at the head: returns every live row."""
        self.trade(api, root, container)
        container.stop_projections()
        container.catch_up()
        return live_rows(container)

    def rebuild(self, container: Container, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VELORA, "projections", "rebuild", *args],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def test_the_cli_rebuilds_every_model_and_swaps_while_the_api_serves(
        self, api: Api, root: str, container: Container
    ) -> None:
        admin, order_id = self.trade(api, root, container)
        every = tuple(r.name for r in container.runners)
        assert container.wait_for_projections(container.log.head(), every, 10)
        before = live_rows(container)
        assert all(before[t] for t in ("orders", "ledger_entries", "payouts", "refunds"))
        seen = api.get(f"/v1/orders/{order_id}", token=admin).json()

        answers: list[tuple[int, Any]] = []
        stop = threading.Event()

        def read_continuously() -> None:
            while not stop.is_set():
                r = api.http.get(
                    f"/v1/orders/{order_id}", headers={"Authorization": f"Bearer {admin}"}
                )
                answers.append((r.status_code, r.json()))

        reader = threading.Thread(target=read_continuously)
        reader.start()
        try:
            done = self.rebuild(container, "--all")
        finally:
            stop.set()
            reader.join(timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "every checksum matched" in done.stdout
        assert "ledger_entries" in done.stdout and "search" in done.stdout
        # Readers were answered from the live tables throughout, then from the swapped ones.
        assert len(answers) >= 5 and all(a == (200, seen) for a in answers), answers[-1]
        after = live_rows(container)
        changed = {t: (before[t], r) for t, r in after.items() if r != before[t]}
        assert not changed, changed
        assert leftovers(container) == [] and schema_drift(container) == []
        status = {r["name"]: r for r in container.operations.projection_status()}
        assert all(r["paused_by"] is None for r in status.values())

        # The swapped tables are live: new events keep reaching them.
        buyer = self.user(api, self.marketplace(api, root), "buyer")
        cart = api.created(api.post("/v1/carts", token=buyer))
        assert api.get(f"/v1/carts/{cart}", token=buyer).status_code == 200

    def test_changes_made_during_a_rebuild_reach_the_swapped_models(
        self, api: Api, root: str, container: Container
    ) -> None:
        self.trade(api, root, container)
        _, seller, _, buyer, _ = self.shop(api, root)
        made: dict[str, str] = {}

        def order_mid_rebuild(phase: str, done: int, total: int) -> None:
            if phase == "build" and not made:
                order, _ = self.order(api, container, seller, buyer)
                made["order"] = order

        report = container.operations.rebuild_models(
            ["orders", "ledger"], on_progress=order_mid_rebuild
        )
        assert report.swapped and report.matched, report.differences
        assert {t.table for t in report.tables} >= {"orders", "ledger_accounts", "payouts"}
        assert all(t.live_rows == t.rebuilt_rows for t in report.tables)
        assert api.get(f"/v1/orders/{made['order']}", token=buyer).json()["status"] == "paid"
        again = container.operations.rebuild_models(["orders", "ledger"])
        assert again.swapped and again.matched and leftovers(container) == []

    def order(self, api: Api, container: Container, seller: str, buyer: str) -> tuple[str, str]:
        product = self.stocked(api, seller, 5, 2_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        return order["order_id"], order["seller_orders"][0]["id"]

    def test_a_checksum_mismatch_refuses_to_swap_unless_forced(
        self, api: Api, root: str, container: Container
    ) -> None:
        self.trade(api, root, container)
        assert container.wait_for_projections(container.log.head(), ("ledger",), 10)
        container.stop_projections()
        container.catch_up()
        accounts = ledger_accounts
        with container.read_store.read() as conn:
            account = conn.execute(
                sa.select(accounts).where(accounts.c.credits_posted > 0).limit(1)
            ).one()
        # A read model gone wrong: a balance that no event explains.
        with container.read_store.begin() as conn:
            conn.execute(
                accounts.update()
                .where(accounts.c.account_id == account.account_id)
                .values(credits_posted=account.credits_posted + 100)
            )
        tampered = live_rows(container)

        refused = self.rebuild(container, "ledger")
        assert refused.returncode == 1, refused.stdout + refused.stderr
        out = " ".join(refused.stdout.split())
        assert "not swapped" in out, out
        assert (
            f"differs ledger_accounts.credits_posted tenant_id={account.tenant_id} currency=USD "
            f"account_id={account.account_id}: live {account.credits_posted + 100}, "
            f"rebuilt {account.credits_posted} (-100)"
        ) in out
        assert live_rows(container) == tampered and leftovers(container) == []

        forced = self.rebuild(container, "ledger", "--force")
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert "swapped despite 1 difference" in " ".join(forced.stdout.split())
        with container.read_store.read() as conn:
            fixed = conn.execute(
                sa.select(accounts.c.credits_posted).where(
                    accounts.c.account_id == account.account_id
                )
            ).scalar_one()
        assert fixed == account.credits_posted
        assert leftovers(container) == [] and schema_drift(container) == []

    def test_a_failed_rebuild_leaves_the_live_models_as_they_were(
        self, api: Api, root: str, container: Container
    ) -> None:
        before = self.settled_trade(api, root, container)

        def fail(phase: str, done: int, total: int) -> None:
            raise RuntimeError("operator pressed ctrl-c")

        with pytest.raises(RuntimeError, match="ctrl-c"):
            container.operations.rebuild_models(["sellers", "catalog"], on_progress=fail)
        assert live_rows(container) == before and leftovers(container) == []

    def test_a_pause_left_by_an_interrupted_swap_is_lifted_by_the_next_rebuild(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root)
        buyer = self.user(api, m, "buyer")
        assert container.wait_for_projections(container.log.head(), ("carts",), 10)
        with container.read_store.begin() as conn:
            container.read_store.pause(conn, ["carts"], PAUSED_BY)
        cart = api.created(api.post("/v1/carts", token=buyer))
        time.sleep(0.5)
        assert container.read_store.position("carts") < container.log.head()
        status = subprocess.run(
            [VELORA, "projections", "status"],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "paused by rebuild" in status.stdout

        done = self.rebuild(container, "carts")
        assert done.returncode == 0, done.stdout + done.stderr
        assert container.wait_for_projections(container.log.head(), ("carts",), 10)
        assert api.get(f"/v1/carts/{cart}", token=buyer).status_code == 200
