"""Webhooks to other apps on PostgreSQL + MariaDB: the scenarios, and the dispatcher run as an
operator runs it (`velora webhooks`, its own process) killed in the middle of a batch and
started again: every event still reaches the receiver, each aggregate's in order."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from tests.conftest import built, make_settings
from tests.e2e.backends import VELORA, OnServers, settings_env
from tests.e2e.client import Api
from tests.e2e.quarantine_scenarios import until
from tests.e2e.shop import Shop
from tests.e2e.webhook_scenarios import (
    SETTINGS,
    WebhookScenarios,
    deliveries,
    in_order_per_subject,
    registered,
)
from tests.receivers import Receivers


@pytest.fixture(scope="module")
def webhooks_container(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
) -> Iterator[Container]:
    settings = make_settings(
        tmp_path_factory.mktemp("velora"),
        eventstore_url=new_pg_database(),
        read_db_url=new_mysql_database(),
        **SETTINGS,
    )
    container = built(settings)
    yield container
    container.close()


class TestWebhooksOnServers(OnServers, WebhookScenarios):
    @pytest.fixture
    def container(self, webhooks_container: Container) -> Container:
        return webhooks_container


def dispatcher_env(container: Container) -> dict[str, str]:
    env = settings_env(container.settings)
    env.update(
        {
            f"VELORA_{k.upper()}": str(v).lower() if v is True else str(v)
            for k, v in SETTINGS.items()
        }
    )
    return env


class TestADispatcherKilledMidBatch(Shop):
    @pytest.fixture
    def container(self, webhooks_container: Container) -> Container:
        return webhooks_container

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        """The API with its projectors, and no dispatcher of its own: `velora webhooks` runs
        apart, as a deployment with --no-background runs it."""
        with TestClient(create_app(container)) as http:
            container.start_projections()
            try:
                yield Api(http)
            finally:
                container.stop_projections()

    def test_every_event_still_arrives_in_order_after_the_kill(
        self, api: Api, root: str, container: Container, tmp_path: Path
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        with Receivers(pace_s=0.15).running() as receivers:
            endpoint_id, secret = registered(api, m, receivers.url("pace", "wh"), ["*"])
            for _ in range(4):
                product = self.stocked(api, seller, 10, 1200)
                order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
                self.pay(api, container, order["order_id"])
            made = until(lambda: len(deliveries(api, m, endpoint_id)) >= 20, 30)
            assert made, deliveries(api, m, endpoint_id)

            first = _dispatcher(container, tmp_path / "first.log")
            assert until(lambda: len(receivers.on("/pace/wh")) >= 5, 60), (
                tmp_path / "first.log"
            ).read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            left = [d for d in deliveries(api, m, endpoint_id) if d["status"] != "delivered"]
            assert left, "the kill came after the last delivery: nothing was left to resend"

            second = _dispatcher(container, tmp_path / "second.log")
            try:
                done = until(
                    lambda: all(
                        d["status"] == "delivered" for d in deliveries(api, m, endpoint_id)
                    ),
                    60,
                )
                assert done, (tmp_path / "second.log").read_text()
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(20)
            log = deliveries(api, m, endpoint_id)
            requests = receivers.on("/pace/wh")
        assert len(log) >= 20
        assert {r.event["id"] for r in requests if r.status == 200} == {d["event_id"] for d in log}
        assert all(r.signed_with(secret) for r in requests)
        assert in_order_per_subject(requests) == []


def _dispatcher(container: Container, output: Path) -> subprocess.Popen[Any]:
    handle = output.open("w")
    return subprocess.Popen(
        [VELORA, "webhooks"],
        env=dispatcher_env(container),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
