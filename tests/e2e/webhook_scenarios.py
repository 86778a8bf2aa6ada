"""Webhooks to other apps (API.md v1.2 "Webhooks to other apps"), as a marketplace admin and its
apps see them: endpoints registered over HTTP, real receivers on this machine (tests/receivers.py)
answering well or badly, and the delivery log read back. The admin reads deliveries that other
people's writes caused, so it waits for them as API.md promises nothing sooner."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.client import Api, assert_problem
from tests.e2e.quarantine_scenarios import until
from tests.e2e.shop import Shop
from tests.e2e.trust_scenarios import bearer
from tests.e2e.world import Marketplace
from tests.receivers import Received, Receivers

# What the deployments of these scenarios are told (a test's own deployment, as an operator
# would set it): local receivers allowed, and a short timeout, backoff and retry window so a
# scenario sees retries and a dead delivery within seconds.
SETTINGS: dict[str, Any] = {
    "webhooks_allow_private": True,
    "webhooks_timeout_s": 1.0,
    "webhooks_retry_first_s": 0.2,
    "webhooks_give_up_after_s": 4.0,
    "webhooks_lease_s": 5.0,
}
WAIT_S = 30.0


def register(api: Api, m: Marketplace, url: str, events: list[str], **kw: Any) -> httpx.Response:
    headers = {**bearer(m.admin_token), **kw.pop("headers", {})}
    return api.http.post(
        "/v1/webhook-endpoints", headers=headers, json={"url": url, "events": events, **kw}
    )


def registered(api: Api, m: Marketplace, url: str, events: list[str]) -> tuple[str, str]:
    made = register(api, m, url, events)
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["secret"]


def deliveries(api: Api, m: Marketplace, endpoint_id: str, **params: Any) -> list[dict[str, Any]]:
    answer = api.http.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries",
        headers=bearer(m.admin_token),
        params={"limit": 500, **params},
    )
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def settled(
    api: Api, m: Marketplace, endpoint_id: str, count: int, status: str
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once there are `count` and all have `status`."""

    def check() -> list[dict[str, Any]] | None:
        items = deliveries(api, m, endpoint_id)
        done = len(items) == count and all(d["status"] == status for d in items)
        return items if done else None

    found = until(check, WAIT_S)
    assert found, deliveries(api, m, endpoint_id)
    return found


def in_order_per_subject(requests: list[Received]) -> list[str]:
    """What breaks each aggregate's order in the requests as a receiver got them: a request for
    an event while an earlier event of the same subject had not yet been answered with a 2xx."""
    sequences: dict[str, set[int]] = defaultdict(set)
    for r in requests:
        sequences[r.event["subject"]].add(int(r.event["sequence"]))
    done: dict[str, set[int]] = defaultdict(set)
    broken = []
    for r in requests:
        subject, seq = r.event["subject"], int(r.event["sequence"])
        waiting = sorted(s for s in sequences[subject] if s < seq and s not in done[subject])
        if waiting:
            broken.append(f"{r.event['type']} of {subject} at {seq} before {waiting}")
        if r.status is not None and 200 <= r.status < 300:
            done[subject].add(seq)
    return broken


class WebhookScenarios(Shop):
    @pytest.fixture
    def receivers(self) -> Iterator[Receivers]:
        with Receivers(slow_s=3.0).running() as running:
            yield running

    def order(self, api: Api, seller: str, buyer: str) -> dict[str, Any]:
        product = self.stocked(api, seller, 10, 1500)
        placed = self.checkout(api, buyer, self.cart(api, buyer, {product: 1}))
        assert placed.status_code == 201, placed.text
        body: dict[str, Any] = placed.json()
        return body

    def test_each_subscribed_event_arrives_signed_in_order(
        self, api: Api, root: str, container: Any, receivers: Receivers
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        url = receivers.url("ok", "erp")
        made = register(api, m, url, ["order.paid", "order.placed"], description="ERP")
        assert made.status_code == 201, made.text
        assert made.headers["cache-control"] == "no-store"
        endpoint_id, secret = made.json()["id"], made.json()["secret"]
        assert secret.startswith("whsec_") and len(secret) > 40
        listed = api.get("/v1/webhook-endpoints", token=m.admin_token).json()["items"]
        assert [(e["id"], e["url"], e["events"], e["description"]) for e in listed] == [
            (endpoint_id, url, ["order.paid", "order.placed"], "ERP")
        ]
        assert all("secret" not in str(e) for e in listed)

        order = self.order(api, seller, buyer)
        self.pay(api, container, order["order_id"])
        got = until(
            lambda: len(receivers.delivered("/ok/erp")) >= 2 and receivers.delivered("/ok/erp"),
            WAIT_S,
        )
        assert got, receivers.received
        assert [r.event["type"] for r in got] == ["order.placed", "order.paid"]
        for r in got:
            assert r.signed_with(secret), r.headers
            assert not r.signed_with("whsec_" + "x" * 43)
            assert r.headers["velora-event-id"] == r.event["id"]
            assert r.headers["content-type"].startswith("application/cloudevents+json")
            assert r.event["subject"] == order["order_id"] == r.event["data"]["order_id"]
            assert r.event["tenantid"] == m.tenant_id
        log = settled(api, m, endpoint_id, 2, "delivered")
        assert [(d["type"], d["event_id"], d["attempts"], d["last_status_code"]) for d in log] == [
            (r.event["type"], r.event["id"], 1, 200) for r in got
        ]
        assert all(d["next_attempt_at"] is None and d["delivered_at"] for d in log)
        assert len(receivers.on("/ok/erp")) == 2  # nothing of the other types
        # The delivery log keeps what was delivered for its retention, then the scheduler
        # forgets it (30 days by default).
        container.scheduler.housekeep(datetime.now(UTC) + timedelta(days=29))
        assert len(deliveries(api, m, endpoint_id)) == 2
        swept = container.scheduler.housekeep(datetime.now(UTC) + timedelta(days=31))
        assert swept["webhook_deliveries"] >= 2 and deliveries(api, m, endpoint_id) == []

    def test_failures_are_retried_and_each_aggregate_keeps_its_order(
        self, api: Api, root: str, container: Any, receivers: Receivers
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        endpoint_id, secret = registered(api, m, receivers.url("fail", "books", n=4), ["*"])
        orders = [self.order(api, seller, buyer) for _ in range(2)]
        for order in orders:
            self.pay(api, container, order["order_id"])

        def all_delivered() -> list[dict[str, Any]] | None:
            items = deliveries(api, m, endpoint_id)
            paid = sum(d["type"] == "order.paid" for d in items)
            return items if paid == 2 and all(d["status"] == "delivered" for d in items) else None

        log = until(all_delivered, WAIT_S)
        assert log, deliveries(api, m, endpoint_id)
        requests = receivers.on("/fail/books")
        assert sum(r.status == 500 for r in requests) == 4
        retried = [d for d in log if d["attempts"] > 1]
        assert retried and sum(d["attempts"] - 1 for d in log) == 4
        # Every attempt of one delivery is the same event, signed afresh.
        for d in retried:
            same = [r for r in requests if r.headers["velora-event-id"] == d["event_id"]]
            assert len(same) == d["attempts"] and len({r.body for r in same}) == 1
            assert all(r.signed_with(secret) for r in same)
        assert {r.event["id"] for r in receivers.delivered("/fail/books")} == {
            d["event_id"] for d in log
        }
        assert in_order_per_subject(requests) == []

    def test_a_redirect_a_closed_connection_and_a_slow_answer_are_failures(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        moved, _ = registered(api, m, receivers.url("redirect", "a"), ["order.placed"])
        cut, _ = registered(api, m, receivers.url("close", "b"), ["order.placed"])
        slow, _ = registered(api, m, receivers.url("slow", "c"), ["order.placed"])
        self.order(api, seller, buyer)

        def failed(endpoint_id: str) -> dict[str, Any]:
            found = until(
                lambda: [d for d in deliveries(api, m, endpoint_id) if d["attempts"] >= 1], WAIT_S
            )
            assert found, deliveries(api, m, endpoint_id)
            (delivery,) = found
            assert delivery["status"] in ("failing", "dead"), delivery
            return delivery

        assert failed(moved)["last_status_code"] == 302
        assert receivers.on("/ok/a-moved") == []  # never followed
        closed = failed(cut)
        assert closed["last_status_code"] is None and closed["last_error"]
        timed_out = failed(slow)
        assert timed_out["last_status_code"] is None and "no answer" in timed_out["last_error"]

    def test_a_delivery_failing_for_its_whole_window_is_dead_until_an_admin_retries_it(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        endpoint_id, secret = registered(api, m, receivers.url("down", "crm"), ["order.placed"])
        self.order(api, seller, buyer)
        (dead,) = settled(api, m, endpoint_id, 1, "dead")
        assert dead["attempts"] >= 2 and dead["next_attempt_at"] is None
        assert dead["last_status_code"] == 503
        assert [d["id"] for d in deliveries(api, m, endpoint_id, status="dead")] == [dead["id"]]
        assert deliveries(api, m, endpoint_id, status="delivered") == []

        receivers.heal("/down/crm")
        retried = api.http.post(
            f"/v1/webhook-endpoints/{endpoint_id}/deliveries/{dead['id']}/retry",
            headers=bearer(m.admin_token),
        )
        assert retried.status_code == 202, retried.text
        assert (retried.json()["id"], retried.json()["status"]) == (dead["id"], "pending")
        (delivered,) = settled(api, m, endpoint_id, 1, "delivered")
        assert delivered["attempts"] == dead["attempts"] + 1
        (got,) = receivers.delivered("/down/crm")
        assert got.signed_with(secret) and got.event["id"] == dead["event_id"]

    def test_a_bad_registration_is_refused_and_registers_nothing(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        m = self.marketplace(api, root)
        ok = receivers.url("ok", "x")
        for body, field in (
            ({"url": "ftp://example.com/x", "events": ["order.paid"]}, "url"),
            ({"url": "https://user:pw@example.com/x", "events": ["order.paid"]}, "url"),
            ({"url": "not a url", "events": ["order.paid"]}, "url"),
            ({"url": ok, "events": ["order.teleported"]}, "events"),
            ({"url": ok, "events": ["*", "order.paid"]}, "events"),
            ({"url": ok, "events": []}, "events"),
            ({"url": ok, "events": ["order.paid"], "description": "x" * 501}, "description"),
            ({"url": ok, "events": ["order.paid"], "secret": "mine"}, "secret"),
        ):
            answer = api.http.post(
                "/v1/webhook-endpoints", headers=bearer(m.admin_token), json=body
            )
            problem = assert_problem(answer, 422)
            assert any(field in map(str, e["loc"]) for e in problem["errors"]), (body, problem)
        listed = api.http.get("/v1/webhook-endpoints", headers=bearer(m.admin_token))
        assert listed.json()["items"] == []

    def test_a_repeated_registration_answers_the_same_endpoint_and_secret(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        m = self.marketplace(api, root)
        key = {"Idempotency-Key": f"hook-{uuid4()}"}
        url = receivers.url("ok", "again")
        first = register(api, m, url, ["order.paid"], headers=key)
        again = register(api, m, url, ["order.paid"], headers=key)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert first.json() == again.json()
        listed = api.get("/v1/webhook-endpoints", token=m.admin_token).json()["items"]
        assert [e["id"] for e in listed] == [first.json()["id"]]

    def test_a_deleted_endpoint_receives_nothing_more(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        m, seller, _, buyer, _ = self.shop(api, root)
        gone, _ = registered(api, m, receivers.url("ok", "gone"), ["order.placed"])
        kept, _ = registered(api, m, receivers.url("ok", "kept"), ["order.placed"])
        for _ in range(2):
            deleted = api.http.delete(
                f"/v1/webhook-endpoints/{gone}", headers=bearer(m.admin_token)
            )
            assert deleted.status_code == 204, deleted.text
        listed = api.get("/v1/webhook-endpoints", token=m.admin_token).json()["items"]
        assert [e["id"] for e in listed] == [kept]
        self.order(api, seller, buyer)
        assert until(lambda: receivers.delivered("/ok/kept"), WAIT_S)
        assert receivers.on("/ok/gone") == []
        answer = api.http.get(
            f"/v1/webhook-endpoints/{gone}/deliveries", headers=bearer(m.admin_token)
        )
        assert_problem(answer, 404)

    def test_another_marketplaces_endpoints_and_events_stay_its_own(
        self, api: Api, root: str, receivers: Receivers
    ) -> None:
        acme = self.marketplace(api, root, "Acme")
        globex = self.marketplace(api, root, "Globex", moderation="auto")
        acme_hook, _ = registered(api, acme, receivers.url("ok", "acme"), ["*"])
        globex_hook, _ = registered(api, globex, receivers.url("ok", "globex"), ["*"])
        for hook in (acme_hook, str(uuid4())):  # acme's, seen from globex, and nobody's
            titles = []
            for method, path in (
                ("DELETE", f"/v1/webhook-endpoints/{hook}"),
                ("GET", f"/v1/webhook-endpoints/{hook}/deliveries"),
                ("POST", f"/v1/webhook-endpoints/{hook}/deliveries/{uuid4()}/retry"),
            ):
                answer = api.http.request(method, path, headers=bearer(globex.admin_token))
                titles.append(assert_problem(answer, 404)["title"])
            assert titles == ["Webhook endpoint not found"] * 3
        listed = api.http.get("/v1/webhook-endpoints", headers=bearer(globex.admin_token))
        assert [e["id"] for e in listed.json()["items"]] == [globex_hook]
        unknown = api.http.post(
            f"/v1/webhook-endpoints/{acme_hook}/deliveries/{uuid4()}/retry",
            headers=bearer(acme.admin_token),
        )
        assert assert_problem(unknown, 404)["title"] == "Webhook delivery not found"

        seller, _ = self.approved_seller(api, globex)
        product = self.stocked(api, seller, 5, 900)
        buyer = self.user(api, globex, "buyer")
        assert self.checkout(api, buyer, self.cart(api, buyer, {product: 1})).status_code == 201
        assert until(lambda: receivers.delivered("/ok/globex"), WAIT_S)
        assert {r.event["tenantid"] for r in receivers.on("/ok/globex")} == {globex.tenant_id}
        assert all(r.event["tenantid"] == acme.tenant_id for r in receivers.on("/ok/acme"))
        assert deliveries(api, acme, acme_hook) == []


class WebhookUrlScenarios(Shop):
    """A deployment as shipped: https only, and only to public addresses."""

    def test_only_https_to_a_public_address_is_registered(self, api: Api, root: str) -> None:
        m = self.marketplace(api, root)
        for url in (
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://10.1.2.3/x",
            "https://192.168.0.7/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://localhost:8443/x",
            "https://printer.local/x",
        ):
            answer = api.http.post(
                "/v1/webhook-endpoints",
                headers=bearer(m.admin_token),
                json={"url": url, "events": ["order.paid"]},
            )
            problem = assert_problem(answer, 422)
            assert problem["title"] == "Invalid webhook URL", (url, problem)
        made = api.http.post(
            "/v1/webhook-endpoints",
            headers=bearer(m.admin_token),
            json={"url": "https://hooks.example.com/velora", "events": ["order.paid"]},
        )
        assert made.status_code == 201, made.text
