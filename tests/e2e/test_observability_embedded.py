"""Logs are JSON lines carrying the request id, tenant and user; /metrics labels requests by
route template, never by raw path."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from api import logs
from api.bootstrap import Container
from tests.e2e.backends import Embedded
from tests.e2e.client import Api
from tests.e2e.shop import Shop


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    logs.configure("INFO", stream=stream)
    yield stream
    for handler in [h for h in root.handlers if h.get_name() == "velora"]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(logging.NOTSET)
    structlog.reset_defaults()


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_kafka_clients_chatter_is_left_out_but_not_its_warnings(
    log_lines: io.StringIO,
) -> None:
    logging.getLogger("kafka.conn").info("connected to 127.0.0.1:9092")
    logging.getLogger("kafka.conn").warning("broker went away")
    logging.getLogger("velora.relay").info("relay publishing")
    assert [(line["logger"], line["event"]) for line in parsed(log_lines)] == [
        ("kafka.conn", "broker went away"),
        ("velora.relay", "relay publishing"),
    ]


class TestObservability(Embedded, Shop):
    def test_each_request_logs_one_json_line_with_its_id_tenant_and_user(
        self, api: Api, root: str, container: Container, log_lines: io.StringIO
    ) -> None:
        m = self.marketplace(api, root, moderation="auto")
        buyer = self.user(api, m, "buyer")
        response = api.http.post(
            "/v1/carts", headers={"Authorization": f"Bearer {buyer}", "X-Request-ID": "req-42"}
        )
        assert response.status_code == 201, response.text
        assert response.headers["X-Request-ID"] == "req-42"
        anonymous = api.http.get("/v1/carts/x")
        made_up = anonymous.headers["X-Request-ID"]
        assert len(made_up) == 32

        lines = parsed(log_lines)
        (cart,) = [line for line in lines if line.get("request_id") == "req-42"]
        me = api.get("/v1/me", token=buyer).json()
        assert cart["event"] == "request"
        assert cart["logger"] == "velora.access"
        assert (cart["method"], cart["route"], cart["status"]) == ("POST", "/v1/carts", 201)
        assert cart["tenant_id"] == m.tenant_id
        assert cart["user_id"] == me["user_id"]
        assert cart["level"] == "info" and cart["timestamp"].endswith("Z")
        (unsigned,) = [line for line in lines if line.get("request_id") == made_up]
        assert unsigned["status"] == 401 and "user_id" not in unsigned

    def test_metrics_label_routes_by_template(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root, moderation="auto")
        buyer = self.user(api, m, "buyer")
        for _ in range(3):
            api.get(f"/v1/orders/{'0' * 8}-0000-0000-0000-{'0' * 12}", token=buyer)
        api.get("/no/such/path")
        # Prometheus scrapes /metrics itself: no redirect on the way.
        scraped = api.http.get("/metrics", follow_redirects=False)
        assert scraped.status_code == 200, scraped.headers
        assert scraped.headers["content-type"].startswith("text/plain")
        text = scraped.text
        # The process's own figures, beside Velora's.
        assert "process_cpu_seconds_total" in text and "python_gc_objects_collected_total" in text
        assert (
            'velora_http_request_duration_seconds_count{method="GET",route="/v1/orders/{order_id}",'
            'status="404"} 3.0'
        ) in text
        assert 'route="unmatched"' in text
        assert "00000000-0000" not in text
        assert 'velora_commands_total{command="create_tenant",result="ok"}' in text
        assert "velora_relay_lag_events{" not in text  # no broker configured: no relay to lag
