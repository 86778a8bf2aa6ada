"""The relay and the notifications consumer against a real Kafka-protocol broker (Tansu in CI),
PostgreSQL and MariaDB: order per key, a relay killed mid-stream, a consumer killed mid-stream
over a topic holding every event twice, readiness, and the metrics after it all."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from adapters.cloudevents import CloudEvents
from adapters.kafka import KafkaPublisher
from api.app import create_app
from api.bootstrap import RELAY, Container
from domain.money import Money
from eventstore.context import CommandContext
from eventstore.relay import Relay, wait_until_published
from projections.notifications.tables import consumed_events, notifications
from services.catalog import ProductEdit
from tests.brokers import Record, kafka_available, read_topics
from tests.conftest import built, make_settings
from tests.e2e.backends import VELORA, cli_env
from tests.e2e.client import Api
from tests.e2e.shop import Shop, intent_event

pytestmark = [pytest.mark.postgres, pytest.mark.mysql]


@pytest.fixture(scope="module")
def kafka_container(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
) -> Iterator[Container]:
    bootstrap = kafka_available()
    settings = make_settings(
        tmp_path_factory.mktemp("velora"),
        eventstore_url=new_pg_database(),
        read_db_url=new_mysql_database(),
        kafka_bootstrap=bootstrap,
        # Tansu keeps every topic for as long as it runs: each module run gets its own.
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}",
        kafka_partitions=4,
    )
    container = built(settings)
    yield container
    container.close()


def topic(container: Container, kind: str) -> str:
    return f"{container.settings.kafka_topic_prefix}.{kind}"


class Worker:
    """A `velora` worker process, its log (stderr) kept in a file."""

    def __init__(self, container: Container, *args: str) -> None:
        self.log = container.settings.data_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
        with self.log.open("wb") as err:
            self.process = subprocess.Popen(
                [VELORA, *args], env=cli_env(container), stdout=subprocess.DEVNULL, stderr=err
            )

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def started(self, message: str) -> Worker:
        wait_for(lambda: any(message in line["event"] for line in self.lines()), 60, message)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> list[dict[str, Any]]:
        """Stops it as docker stop does (SIGTERM); it must finish cleanly."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        assert self.process.returncode == 0, self.log.read_text()
        return self.lines()


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def firsts_in_order(records: list[Record]) -> dict[tuple[str, bytes], list[int]]:
    """Per topic and key, each event's log position the first time it arrived."""
    seen: set[str] = set()
    firsts: dict[tuple[str, bytes], list[int]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        event = r.event()
        if event["id"] not in seen:
            seen.add(event["id"])
            firsts[r.topic, r.key].append(int(event["sequence"]))
    return firsts


class TestKafka(Shop):
    @pytest.fixture
    def container(self, kafka_container: Container) -> Container:
        return kafka_container

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)

    def catalog_events(
        self, api: Api, root: str, container: Container, products: int, edits: int
    ) -> dict[str, list[int]]:
        """Lists products and edits each several times, interleaved, so that many keys share
        partitions. Returns each product's translated log positions, in log order."""
        m = self.marketplace(api, root, moderation="auto")
        _, seller_id = self.approved_seller(api, m)
        ctx = CommandContext.system("test:catalog")
        ids = [
            container.catalog.list_product(
                ctx,
                seller_id=uuid.UUID(seller_id),
                within=None,
                sku=f"SKU-{uuid.uuid4().hex[:8]}",
                title=f"Product {i}",
                description="",
                category="misc",
                price=Money(100 + i, "USD"),
                attributes={},
            )[0]
            for i in range(products)
        ]
        for round_ in range(edits):
            for n, result in enumerate(ids):
                edit = ProductEdit(
                    title=f"Product {n} v{round_}",
                    description=None,
                    category=None,
                    price=Money(200 + round_, "USD"),
                )
                container.catalog.edit(ctx, result.id, uuid.UUID(seller_id), edit)
        positions: dict[str, list[int]] = defaultdict(list)
        for n in container.log.read_raw(0, 1_000_000):
            if n.topic.endswith("Product.Listed") or n.topic.endswith("Product.Edited"):
                positions[str(n.originator_id)].append(n.id)
        return {str(r.id): positions[str(r.id)] for r in ids}

    def test_the_relay_keeps_each_keys_order(
        self, api: Api, root: str, container: Container
    ) -> None:
        expected = self.catalog_events(api, root, container, products=12, edits=4)
        relay = container.relay()
        relay.batch_size = 7  # many small batches, so keys interleave across them
        assert wait_until_published(relay, container.log.head(), timeout_s=60)
        wanted = sum(len(p) for p in expected.values())
        records = read_topics(
            container.settings.kafka_bootstrap or "",
            [topic(container, "catalog")],
            until=lambda got: (
                len({r.key for r in got} & {k.encode() for k in expected}) == 12
                and sum(r.key.decode() in expected for r in got) >= wanted
            ),
        )
        mine = [r for r in records if r.key.decode() in expected]
        assert len(mine) == wanted  # no crash: each event exactly once
        by_key: dict[str, list[int]] = defaultdict(list)
        partitions: dict[str, set[int]] = defaultdict(set)
        for r in sorted(mine, key=lambda r: (r.partition, r.offset)):
            by_key[r.key.decode()].append(int(r.event()["sequence"]))
            partitions[r.key.decode()].add(r.partition)
            assert dict(r.headers)["content-type"].startswith(b"application/cloudevents+json")
        assert by_key == expected
        assert all(len(p) == 1 for p in partitions.values())  # one partition per key

    def test_a_relay_killed_mid_stream_loses_nothing_when_restarted(
        self, api: Api, root: str, container: Container
    ) -> None:
        wait_until_published(container.relay(), container.log.head(), timeout_s=60)
        start_position = container.log.relay_positions.get(RELAY)
        expected = self.catalog_events(api, root, container, products=40, edits=6)
        head = container.log.head()
        relay = Worker(container, "relay", "--batch-size", "1")
        wait_for(
            lambda: container.log.relay_positions.get(RELAY) > start_position + 20,
            60,
            "the relay to start publishing",
        )
        relay.kill()
        killed_at = container.log.relay_positions.get(RELAY)
        assert killed_at < head, "the relay finished before it could be killed"

        again = Worker(container, "relay", "--batch-size", "25").started("publishing from")
        wait_for(
            lambda: container.log.relay_positions.get(RELAY) == head, 60, "the restarted relay"
        )
        again.stop()
        wanted = {p for positions in expected.values() for p in positions}
        records = read_topics(
            container.settings.kafka_bootstrap or "",
            [topic(container, "catalog")],
            until=lambda got: wanted <= {int(r.event()["sequence"]) for r in got},
        )
        mine = [r for r in records if r.key.decode() in expected]
        assert {int(r.event()["sequence"]) for r in mine} == wanted  # every event at least once
        firsts = firsts_in_order(mine)
        assert {k.decode(): v for (_, k), v in firsts.items()} == expected  # in order per key

    def test_the_consumer_has_one_effect_per_event_through_duplicates_and_a_kill(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller_a, seller_a_id = self.approved_seller(api, m)
        seller_b, _ = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        pa = self.stocked(api, seller_a, 5, 2_000)
        pb = self.stocked(api, seller_b, 5, 3_000)
        orders = []
        for _ in range(3):
            order = self.checkout(api, buyer, self.cart(api, buyer, {pa: 1, pb: 1})).json()
            self.pay(api, container, order["order_id"])
            orders.append(order)
        part = next(p["id"] for p in orders[0]["seller_orders"] if p["seller_id"] == seller_a_id)
        body = {"carrier": "UPS", "tracking_number": "1Z"}
        shipped = api.post(f"/v1/seller-orders/{part}/ship", token=seller_a, json=body)
        assert shipped.status_code == 200, shipped.text
        assert api.post(f"/v1/seller-orders/{part}/deliver", token=seller_a).status_code == 200
        failed = self.checkout(api, buyer, self.cart(api, buyer, {pa: 1})).json()
        self.pay(api, container, failed["order_id"], ok=False)
        # 3 paid orders (buyer + 2 sellers each), 1 shipped, 1 delivered (buyer + seller),
        # 1 failed payment.
        expected_notifications = 3 * 3 + 1 + 2 + 1

        head = container.log.head()
        assert wait_until_published(container.relay(), head, timeout_s=60)
        # A second relay over the same log puts every event on the topics again, as a relay
        # that crashed before recording its position would.
        twice = Relay(
            container.log,
            KafkaPublisher(container.settings.kafka_bootstrap or ""),
            envelope=CloudEvents(),
            name="again",
            topic_prefix=container.settings.kafka_topic_prefix,
        )
        assert wait_until_published(twice, head, timeout_s=60)
        twice.publisher.close()
        # Everything the consumer reads: the catalog's events too (most of them tell no one).
        # The module's earlier tests published on these topics too, and the relay killed there
        # put some of its events on them a third time: every event is there at least twice.
        kinds = [topic(container, kind) for kind in ("orders", "payments", "catalog")]

        def copies(got: list[Record]) -> dict[str, int]:
            seen: dict[str, int] = defaultdict(int)
            for r in got:
                seen[r.event()["id"]] += 1
            return seen

        records = read_topics(
            container.settings.kafka_bootstrap or "",
            kinds,
            until=lambda got: (
                any(r.event()["subject"] == failed["order_id"] for r in got)
                and min(copies(got).values()) >= 2
            ),
        )
        distinct = set(copies(records))
        assert min(copies(records).values()) >= 2

        def count(table: sa.Table) -> int:
            with container.read_store.engine.connect() as conn:
                return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar())

        # One record per transaction, so the kill lands between some and others.
        consumer = Worker(container, "consume", "notifications", "--batch-size", "1")
        wait_for(lambda: count(notifications) > 0, 90, "the first notifications")
        consumer.kill()
        assert count(consumed_events) < len(distinct), "the consumer finished before the kill"
        consumer = Worker(container, "consume", "notifications").started("started")
        wait_for(lambda: count(consumed_events) == len(distinct), 90, "every event consumed")
        logged = consumer.stop()

        with container.read_store.engine.connect() as conn:
            rows = conn.execute(sa.select(notifications)).mappings().all()
        assert len(rows) == expected_notifications, [dict(r) for r in rows]
        assert len({(r["event_id"], r["recipient_id"]) for r in rows}) == len(rows)
        assert all(r["emailed_at"] is not None for r in rows)  # the logging port took them all
        by_kind = defaultdict(int)
        for row in rows:
            by_kind[row["kind"]] += 1
        assert by_kind == {
            "order_paid": 3,
            "new_order": 6,
            "order_shipped": 1,
            "order_delivered": 1,
            "order_delivered_seller": 1,
            "payment_failed": 1,
        }
        assert all(r["tenant_id"] == m.tenant_id for r in rows)
        assert any(line["event"].startswith("email ") for line in logged), logged

    def test_a_price_drop_reaches_its_wishers_and_a_stock_alert_its_seller(
        self, api: Api, root: str, container: Container
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        seller, seller_id = self.approved_seller(api, m)
        wisher, bystander = self.user(api, m, "buyer"), self.user(api, m, "buyer")
        product = self.stocked(api, seller, 5, 4_000)
        assert api.request("PUT", f"/v1/me/wishlist/{product}", token=wisher).is_success
        wisher_id = api.get("/v1/me", token=wisher).json()["user_id"]
        assert api.get("/v1/me", token=bystander).is_success
        path = f"/v1/products/{product}"
        for amount in (4_500, 3_600):  # up: no news; down: news for the wisher alone
            body = {"price": {"amount": amount, "currency": "USD"}}
            assert api.request("PATCH", path, token=seller, json=body).is_success
        alert = {"warehouse": "main", "threshold": 10}  # 5 on hand: below it at once
        assert api.request("PUT", f"{path}/stock-alert", token=seller, json=alert).is_success
        position = api.position
        assert container.wait_for_projections(position, ("wishlists",), timeout_s=10)
        assert wait_until_published(container.relay(), container.log.head(), timeout_s=60)
        records = read_topics(
            container.settings.kafka_bootstrap or "",
            [topic(container, "catalog")],
            until=lambda got: (
                {"stock.alert_raised", "product.price_lowered"}
                <= {
                    r.event()["type"] for r in got if r.event()["data"].get("product_id") == product
                }
            ),
        )
        lowered = [r.event() for r in records if r.event()["type"] == "product.price_lowered"]
        drops = [
            (e["data"]["from_minor"], e["data"]["price_minor"])
            for e in lowered
            if e["data"]["product_id"] == product
        ]
        assert drops == [(4_500, 3_600)]
        consumer = container.notifications()
        consumer.handle([r.value for r in records])
        consumer.handle([r.value for r in records])  # delivered twice: one effect
        with container.read_store.engine.connect() as conn:
            about = sa.select(notifications).where(notifications.c.product_id == product)
            rows = conn.execute(about.order_by(notifications.c.kind)).mappings().all()
        assert [(r["kind"], r["recipient_role"], r["recipient_id"]) for r in rows] == [
            ("price_dropped", "buyer", wisher_id),
            ("stock_low", "seller", seller_id),
        ]
        assert rows[0]["amount_minor"] == 3_600 and rows[0]["order_id"] is None
        assert all(r["emailed_at"] is not None for r in rows)

    def test_readiness_checks_the_broker(self, api: Api, container: Container) -> None:
        ready = api.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["broker"] == "ok"

    def test_metrics_show_requests_commands_lags_and_webhooks(
        self, api: Api, root: str, container: Container
    ) -> None:
        _, seller, _, buyer, _ = self.shop(api, root)
        product = self.stocked(api, seller, 3, 1_500)
        order = self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).json()
        event = intent_event("payment_intent.succeeded", order["payment"]["intent_id"], 1_500)
        for _ in range(2):  # paid, then a duplicate
            self.post_event(api, container, event)
        self.post_event(api, container, event, secret="not-the-webhook-secret")
        refused = api.post("/v1/carts", token=None)
        assert refused.status_code == 401
        assert wait_until_published(container.relay(), container.log.head(), timeout_s=60)
        checkout_ids = api.post("/v1/carts", token=buyer)  # one more event: the relay lags by 1
        assert checkout_ids.status_code == 201
        text = api.get("/metrics").text
        for series in (
            'velora_http_request_duration_seconds_bucket{le="0.5",method="POST",'
            'route="/v1/checkout",status="201"}',
            'velora_commands_total{command="checkout",result="ok"}',
            'velora_commands_total{command="open_cart",result="401"}',
            'velora_webhooks_total{outcome="paid",provider="local"}',
            'velora_webhooks_total{outcome="duplicate",provider="local"}',
            'velora_webhooks_total{outcome="bad_signature",provider="local"}',
            'velora_projector_lag_events{projector="orders"}',
            'velora_relay_lag_events{relay="kafka"} 1.0',
            "velora_log_head ",
        ):
            assert series in text, f"{series} missing from /metrics:\n{text}"


def test_readiness_names_an_unreachable_broker(
    tmp_path: Path, new_pg_database: Callable[[], str]
) -> None:
    settings = make_settings(
        tmp_path / "velora", eventstore_url=new_pg_database(), kafka_bootstrap="127.0.0.1:9"
    )
    container = built(settings)
    assert container.broker is not None
    container.broker.timeout_s = 1.0
    try:
        with TestClient(create_app(container)) as http:
            ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"] == "unavailable"  # why is in the log only
        assert ready.json()["checks"]["event_store"] == "ok"
    finally:
        container.close()
