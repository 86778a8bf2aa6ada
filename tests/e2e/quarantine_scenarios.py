"""When the read side cannot apply an event, or loses its database for a moment.

A poison event (here: a seller's commission no column can hold, recorded the way a past bug
would have recorded it) quarantines only its own marketplace, in the projector that failed and in
those that read its model; every other marketplace reads its own writes as API.md promises, the
quarantined one is told at once that its reads cannot show its writes, and operators see it in
/readyz, /metrics, /v1/ops/projections and the CLI. A projection thread whose event store breaks
under it says so and goes on by itself once the store is back."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg

from api.bootstrap import Container
from domain.sellers import Seller
from eventstore.context import CommandContext
from eventstore.postgres import EVENTS_TABLE
from tests.e2e.backends import VELORA, cli_env
from tests.e2e.client import Api, assert_problem
from tests.e2e.shop import Shop

QUARANTINING = {"sellers", "catalog", "search", "carts"}  # sellers and what reads its model


def until(check: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    """Polls `check` until it answers something true (what background work promises no time
    for: a thread starting again after a failure)."""
    deadline = time.monotonic() + timeout_s
    while not (answer := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def metric(api: Api, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    line_start = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in api.http.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.split()[-1])
    return None


class QuarantineScenarios(Shop):
    def plant_poison(self, container: Container, seller_id: str) -> int:
        """Records, as a past bug could have, a seller commission of 2^63 basis points: beyond
        what SQLite's and MariaDB's integer columns hold."""
        seller: Seller = container.sellers.repository.get(UUID(seller_id))
        seller._commission_set(commission_bps=2**63)
        return container.sellers.record(CommandContext.system("test:past-bug"), seller)

    def test_a_poison_event_quarantines_only_its_marketplace_and_operators_see_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        poisoned = self.marketplace(api, root, name="Poisoned", moderation="auto")
        healthy = self.marketplace(api, root, name="Healthy", moderation="auto")
        seller_p, seller_p_id = self.approved_seller(api, poisoned)
        seller_h, _ = self.approved_seller(api, healthy)
        bad = self.plant_poison(container, seller_p_id)
        api.position = max(api.position, bad)

        # The healthy marketplace writes and reads its writes, as API.md promises (this client
        # waits for every position it has seen, the poison's included).
        kettle = self.product(api, seller_h, title="Kettle")
        assert api.get(f"/v1/products/{kettle}", token=seller_h).json()["title"] == "Kettle"
        hits = api.get("/v1/search/products", token=seller_h, params={"q": "Kettle"}).json()
        assert [h["id"] for h in hits["items"]] == [kettle]
        buyer_h = self.user(api, healthy, "buyer")
        cart = self.cart(api, buyer_h, {kettle: 1})
        assert api.get(f"/v1/carts/{cart}", token=buyer_h).status_code == 200

        # The poisoned one is told at once that its reads cannot show its writes.
        jug = self.product(api, seller_p, title="Jug")
        refused = api.get(f"/v1/products/{jug}", token=seller_p)
        assert_problem(refused, 503)
        assert "quarantined" in refused.json()["detail"] and refused.headers["Retry-After"]
        # Reads that ask for no position still answer, from what the models hold.
        unwaited = api.get(
            f"/v1/sellers/{seller_p_id}", token=seller_p, headers={"X-Velora-Min-Position": "0"}
        )
        assert unwaited.status_code == 200

        # Operators see it: /readyz stays ready for everyone else but says which projectors
        # quarantine a tenant; the metrics count them; the ops view says who, where and why.
        ready = api.http.get("/readyz")
        assert ready.status_code == 200, ready.text
        body = ready.json()
        assert body["ready"] is True and body["degraded"] is True
        assert {
            k.split(":")[1] for k, v in body["checks"].items() if "quarantines" in str(v)
        } == QUARANTINING
        for name in QUARANTINING:
            assert metric(api, "velora_projector_quarantined_tenants", projector=name) == 1
        assert metric(api, "velora_projector_quarantined_tenants", projector="orders") == 0
        rows = {r["name"]: r for r in api.get("/v1/ops/projections", token=root).json()}
        for name, row in rows.items():
            quarantined = row["quarantined"]
            if name not in QUARANTINING:
                assert quarantined == [], name
                continue
            assert [(h["tenant_id"], h["position"]) for h in quarantined] == [
                (poisoned.tenant_id, bad)
            ]
            # At or past the poison, not stopped on it (the jug's events may still be on the way).
            assert row["position"] >= bad and row["failed_position"] is None
        assert "Seller.CommissionSet" in rows["sellers"]["quarantined"][0]["topic"]
        assert "reads sellers" in rows["catalog"]["quarantined"][0]["failure"]

        # A replay while the projector still cannot apply it changes nothing, and says why.
        refused = api.post(
            "/v1/ops/projections/replay", token=root, json={"tenant_id": poisoned.tenant_id}
        )
        assert_problem(refused, 409)
        assert "sellers" in refused.json()["detail"]
        assert_problem(
            api.post(
                "/v1/ops/projections/replay", token=root, json={"tenant_id": healthy.tenant_id}
            ),
            409,
        )
        assert_problem(
            api.post(
                "/v1/ops/projections/replay",
                token=root,
                json={"tenant_id": poisoned.tenant_id, "projectors": ["nope"]},
            ),
            422,
        )
        assert_problem(
            api.post(
                "/v1/ops/projections/replay",
                token=root,
                json={"tenant_id": poisoned.tenant_id, "projectors": ["catalog"]},
            ),
            409,
        )
        assert_problem(
            api.post(
                "/v1/ops/projections/replay",
                token=poisoned.admin_token,
                json={"tenant_id": poisoned.tenant_id},
            ),
            403,
        )
        rows = {r["name"]: r for r in api.get("/v1/ops/projections", token=root).json()}
        assert "replay" in rows["sellers"]["quarantined"][0]["failure"]
        assert len(rows["catalog"]["quarantined"]) == 1

        status = subprocess.run(
            [VELORA, "projections", "status"],
            env=cli_env(container),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert status.returncode == 0, status.stderr
        assert f"sellers quarantines tenant {poisoned.tenant_id} from position {bad}" in (
            " ".join(status.stdout.split())
        )

    def test_projectors_whose_event_store_breaks_under_them_say_so_and_go_on_once_it_is_back(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        buyer = self.user(api, m, "buyer")
        assert api.get("/v1/me", token=buyer).status_code == 200
        assert api.http.get("/readyz").json()["checks"]["projectors"] == "ok"

        self.rename_events(container, EVENTS_TABLE, f"{EVENTS_TABLE}_away")
        try:
            failing = until(
                lambda: api.http.get("/readyz").json()["checks"].get("projectors") == "failing"
            )
            assert failing, api.http.get("/readyz").text
            assert api.http.get("/readyz").status_code == 503
            assert metric(api, "velora_projectors_up") == 0
        finally:
            self.rename_events(container, f"{EVENTS_TABLE}_away", EVENTS_TABLE)

        assert until(lambda: api.http.get("/readyz").status_code == 200)
        assert metric(api, "velora_projectors_up") == 1
        assert (metric(api, "velora_projectors_restarts_total") or 0) >= 1
        cart = api.created(api.post("/v1/carts", token=buyer))
        assert api.get(f"/v1/carts/{cart}", token=buyer).status_code == 200
        worker = api.get("/v1/ops/projections", token=root).json()[0]["worker"]
        assert worker["state"] == "running" and worker["error"] is None
        assert worker["restarts"] >= 1

    @staticmethod
    def rename_events(container: Container, old: str, new: str) -> None:
        """What an operator's slip (or a migration gone wrong) does to the events table."""
        if container.settings.eventstore_url:
            with psycopg.connect(container.settings.eventstore_url, autocommit=True) as conn:
                conn.execute(f"ALTER TABLE {old} RENAME TO {new}")  # type: ignore[arg-type]
            return
        raw = sqlite3.connect(container.settings.data_dir / "events.sqlite3", timeout=30)
        try:
            raw.execute(f"ALTER TABLE {old} RENAME TO {new}")
            raw.commit()
        finally:
            raw.close()
