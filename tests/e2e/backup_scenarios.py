"""The restore drill, as an operator runs it: `velora backup` while the marketplace keeps
writing, `velora restore` into fresh databases, and the restored deployment checked against the
original: the hash chain and the books verify, the restored log is the original's up to the
backup, and the read models folded again from it equal the original's row for row."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from api.settings import Settings
from eventstore.context import CommandContext
from projections.tables import metadata
from tests.conftest import built
from tests.e2e.backends import VELORA, settings_env
from tests.e2e.client import Api
from tests.e2e.media_scenarios import as_file, picture
from tests.e2e.shop import ADDRESS, Shop

Fresh = Callable[[], Settings]


def velora(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    settings.data_dir.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [VELORA, *args],
        env=settings_env(settings),
        cwd=settings.data_dir.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def said(done: subprocess.CompletedProcess[str]) -> str:
    """What the command printed, its lines joined (the console wraps long ones)."""
    return " ".join(done.stdout.split())


def read_models(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a projector writes, in primary-key order."""
    names = sorted({t for runner in container.runners for t in runner.projector.writes})
    found = {}
    with container.read_store.read() as conn:
        for name in names:
            table = metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            found[name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
    return found


class BackupScenarios(Shop):
    def test_a_backup_taken_while_writing_restores_to_what_was_backed_up(
        self, api: Api, root: str, container: Container, fresh: Fresh, tmp_path: Path
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        self.delivered(api, container, seller, buyer)  # paid, shipped, delivered
        product = self.stocked(api, seller, 5, 2_500)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        self.pay(api, container, order["order_id"])
        image = api.post(f"/v1/products/{product}/images", token=seller, files=as_file(picture()))
        assert image.status_code == 201, image.text
        saved = api.post("/v1/me/addresses", token=buyer, json=ADDRESS)  # sealed personal data
        assert saved.status_code == 201, saved.text

        # The marketplace keeps writing while the backup is taken.
        stop, written = threading.Event(), []

        def write() -> None:
            ctx = CommandContext.system("drill")
            while not stop.is_set():
                n = len(written)
                container.identity.register_user(
                    ctx,
                    tenant_id=UUID(m.tenant_id),
                    email=f"drill-{n}@example.test",
                    password="drill-password",
                    roles=["buyer"],
                    granter_roles=["super_admin"],
                )
                written.append(n)

        writer = threading.Thread(target=write)
        writer.start()
        try:
            while len(written) < 3:
                stop.wait(0.01)
            during = velora(container.settings, "backup", str(tmp_path / "during"))
        finally:
            stop.set()
            writer.join()
        assert during.returncode == 0, during.stdout + during.stderr
        assert len(written) > 3

        # Restored into fresh databases: the log is the original's up to some moment of the
        # backup, its chain and books verify, and the deployment answers from it.
        target = fresh()
        restored = velora(target, "restore", str(tmp_path / "during"))
        assert restored.returncode == 0, restored.stdout + restored.stderr
        b = built(target)
        try:
            head = b.log.head()
            assert 0 < head < container.log.head()
            mine = [(r.id, r.topic, r.state) for r in b.log.read_raw(0, head)]
            theirs = [(r.id, r.topic, r.state) for r in container.log.read_raw(0, head)]
            assert [(p, t) for p, t, _ in mine] == [(p, t) for p, t, _ in theirs]
            assert [s for _, _, s in mine] == [s for _, _, s in theirs]
            report = b.verifier.verify(lambda *_: None)
            assert report.intact, report.report()
            with TestClient(create_app(b, run_projections=False)) as http:
                seen = Api(http)
                addresses = seen.get("/v1/me/addresses", token=buyer).json()["items"]
                assert [a["line1"] for a in addresses] == [ADDRESS["line1"]]
                shown = seen.get(f"/v1/products/{product}", token=buyer).json()
                url = shown["images"][0]["url"]
                assert http.get(url).status_code == 200  # the picture came back too
        finally:
            b.close()

        # Taken again once the writing stopped: rebuilt from the restored log, every read model
        # equals the original's, row for row, and so do the search answers.
        container.catch_up()
        after = velora(container.settings, "backup", str(tmp_path / "after"))
        assert after.returncode == 0, after.stdout + after.stderr
        again = fresh()
        assert velora(again, "restore", str(tmp_path / "after")).returncode == 0
        c = built(again)
        try:
            assert c.log.head() == container.log.head()
            assert read_models(c) == read_models(container)
            query = {"q": "teapot"}
            hits = api.get("/v1/search/products", token=buyer, params=query).json()
            with TestClient(create_app(c, run_projections=False)) as http:
                hits_c = Api(http).get("/v1/search/products", token=buyer, params=query).json()
            assert hits_c["total"] == hits["total"] > 0
            assert sorted(h["id"] for h in hits_c["items"]) == sorted(
                h["id"] for h in hits["items"]
            )
        finally:
            c.close()

    def test_a_restore_refuses_a_deployment_that_holds_events(
        self, api: Api, root: str, container: Container, tmp_path: Path
    ) -> None:
        self.shop(api, root)
        assert velora(container.settings, "backup", str(tmp_path / "b")).returncode == 0
        again = velora(container.settings, "backup", str(tmp_path / "b"))
        assert again.returncode == 1 and "not empty" in said(again)
        head = container.log.head()
        refused = velora(container.settings, "restore", str(tmp_path / "b"))
        assert refused.returncode == 1, refused.stdout
        assert "nothing changed" in said(refused)
        assert container.log.head() == head
        nothing = velora(container.settings, "restore", str(tmp_path / "missing"))
        assert nothing.returncode == 1 and "no Velora backup" in said(nothing)
