"""What the relay publishes: a marketplace's whole story (checkout, payment, shipping, delivery,
release, refund, payout, a failed payment, a return, a dispute won) relayed through a
Publisher, checked against the public schema in docs/events.md, for personal data, and for order
and resends."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from adapters.cloudevents import CONTENT_TYPE, CloudEvents
from api.bootstrap import Container
from eventstore.relay import Message, Publisher, PublishFailed, Relay, wait_until_published
from projections.mail import Email
from projections.notifications.consumer import KINDS, NotificationsConsumer
from projections.notifications.tables import consumed_events, notifications
from services.scheduler import Scheduler
from tests.brokers import InMemoryPublisher
from tests.e2e.client import Api
from tests.e2e.dispute_scenarios import dispute_event
from tests.e2e.shop import ADDRESS, Shop

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
ENVELOPE = {
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "tenantid",
    "sequence",
    "data",
}


def documented() -> dict[str, tuple[str, set[str]]]:
    """Each type in docs/events.md with its topic kind and the exact keys of its data."""
    text = DOCS.read_text()
    groups = {
        # Field names, without the notes in brackets after some of them.
        name: {f.strip(" `\n") for f in re.sub(r"\s*\([^)]*\)", "", fields).split(",")}
        for name, fields in re.findall(r"- \*\*(\w[\w ]*) fields:\*\* (.*?)\.\n", text, re.S)
    }
    types = {}
    for type_, kind, _, fields in re.findall(
        r"^\| `([a-z_.]+)` \| (\w+) \| ([\w ]+) \| ([^|]+) \|", text, re.M
    ):
        keys: set[str] = set()
        for field in (f.strip() for f in fields.split(",")):
            group = field.removesuffix(" fields")
            keys |= groups[group] if field.endswith(" fields") else {field}
        types[type_] = (kind, keys)
    return types


class Outbox:
    """An email port that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> None:
        self.sent.append(email)


class PublicationScenarios(Shop):
    @pytest.fixture
    def story(self, api: Api, root: str, container: Container) -> dict[str, Any]:
        m = self.marketplace(api, root, "Events", moderation="auto", hold_days=0)
        seller_a, seller_a_id = self.approved_seller(api, m)
        seller_b, seller_b_id = self.approved_seller(api, m)
        buyer = self.user(api, m, "buyer")
        finance = self.platform_user(api, root, "finance_admin")
        pa = self.stocked(api, seller_a, 5, 10_000)
        pb = self.stocked(api, seller_b, 5, 3_000)
        order = self.checkout(api, buyer, self.cart(api, buyer, {pa: 1, pb: 2})).json()
        self.pay(api, container, order["order_id"])
        part_a = next(p["id"] for p in order["seller_orders"] if p["seller_id"] == seller_a_id)
        shipped = api.post(
            f"/v1/seller-orders/{part_a}/ship",
            token=seller_a,
            json={"carrier": "UPS", "tracking_number": "1Z999"},
        )
        assert shipped.status_code == 200, shipped.text
        assert api.post(f"/v1/seller-orders/{part_a}/deliver", token=seller_a).status_code == 200
        refund = api.created(
            api.post(
                "/v1/refunds",
                token=buyer,
                json={
                    "seller_order_id": part_a,
                    "reason": "arrived broken",
                    "amount": {"amount": 1_000, "currency": "USD"},
                },
            )
        )
        approved = api.post(f"/v1/refunds/{refund}/approve", token=seller_a)
        assert approved.status_code == 200, approved.text
        run = api.post("/v1/payouts/run", token=finance, key="run", json={"tenant_id": m.tenant_id})
        assert run.status_code == 201, run.text
        failed = self.checkout(api, buyer, self.cart(api, buyer, {pb: 1})).json()
        self.pay(api, container, failed["order_id"], ok=False)
        back = api.created(
            api.post(
                "/v1/returns",
                token=buyer,
                json={
                    "seller_order_id": part_a,
                    "lines": [{"product_id": pa, "quantity": 1}],
                    "reason": "arrived broken",
                },
            )
        )
        steps = (
            ("authorize", seller_a, {"instructions": "Post it back"}),
            ("ship", buyer, {"carrier": "UPS", "tracking_number": "1ZR"}),
            ("receive", seller_a, {"lines": [{"product_id": pa, "quantity": 1}]}),
        )
        for step, token, body in steps:
            done = api.post(f"/v1/returns/{back}/{step}", token=token, json=body)
            assert done.status_code == 200, done.text
        intent = order["payment"]["intent_id"]
        for kind, status in (("created", "needs_response"), ("closed", "won")):
            event = dispute_event(f"charge.dispute.{kind}", "dp_story", intent, 1_000, status)
            assert self.post_event(api, container, event).status_code == 200
        return {
            "tenant_id": m.tenant_id,
            "order_id": order["order_id"],
            "failed_order_id": failed["order_id"],
            "sellers": {seller_a_id, seller_b_id},
            "buyer": buyer,
            "product": pb,
        }

    def relayed(self, container: Container, publisher: Publisher, name: str = "test") -> Relay:
        relay = Relay(container.log, publisher, envelope=CloudEvents(), name=name, batch_size=50)
        assert wait_until_published(relay, container.log.head(), timeout_s=60)
        return relay

    def consumed_values(self, container: Container, kinds: Sequence[str] = KINDS) -> list[bytes]:
        """The whole log relayed: the records on the topics of `kinds`, in order."""
        publisher = InMemoryPublisher()
        self.relayed(container, publisher)
        return [m.value for kind in kinds for m in publisher.read(f"velora.{kind}")]

    def test_every_event_is_a_documented_cloudevent(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        publisher = InMemoryPublisher()
        self.relayed(container, publisher)
        schema = documented()
        messages = [m for topic in publisher.topics for m in publisher.read(topic)]
        seen: dict[str, Message] = {}
        for message in messages:
            event = json.loads(message.value)
            assert set(event) == ENVELOPE, event
            assert event["specversion"] == "1.0"
            assert event["id"] not in seen, f"two events share the id {event['id']}"
            seen[event["id"]] = message
            kind, fields = schema[event["type"]]
            assert message.topic == f"velora.{kind}", (message.topic, event["type"])
            assert set(event["data"]) == fields, (event["type"], set(event["data"]) ^ fields)
            assert message.key == event["subject"].encode()
            UUID(event["subject"])
            assert event["tenantid"] == story["tenant_id"]
            assert event["source"] == f"urn:velora:tenant:{story['tenant_id']}"
            assert event["dataschema"] == f"urn:velora:events:{event['type']}:v1"
            assert event["time"].endswith("Z")
            assert dict(message.headers) == {"content-type": CONTENT_TYPE.encode()}
        types = {json.loads(m.value)["type"] for m in messages}
        story_types = {
            "product.listed",
            "order.placed",
            "order.paid",
            "payment.succeeded",
            "escrow.held",
            "order.shipped",
            "order.delivered",
            "escrow.released",
            "order.completed",
            "refund.requested",
            "refund.approved",
            "payout.started",
            "payout.paid",
            "order.cancelled",
            "payment.failed",
            "ledger.transfer_made",
            "ledger.transfer_posted",
            "dispute.opened",
            "dispute.closed",
            "return.requested",
            "return.authorized",
            "return.shipped",
            "return.received",
        }
        assert story_types <= types, story_types - types

        paid = [json.loads(m.value) for m in messages if b'"order.paid"' in m.value]
        (order_paid,) = [e for e in paid if e["type"] == "order.paid"]
        assert order_paid["subject"] == story["order_id"]
        assert order_paid["data"]["total_minor"] == 16_000
        assert {s["seller_id"] for s in order_paid["data"]["sellers"]} == story["sellers"]
        assert sum(s["subtotal_minor"] for s in order_paid["data"]["sellers"]) == 16_000

    def test_no_personal_data_is_published(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        publisher = InMemoryPublisher()
        self.relayed(container, publisher)
        values = [m.value for topic in publisher.topics for m in publisher.read(topic)]
        assert values
        for value in values:
            text = value.decode()
            assert "@" not in text, text  # no email address
            for personal in (*ADDRESS.values(), '"Shop"', "arrived broken"):
                assert personal not in text, (personal, text)

    def test_a_failed_publish_keeps_the_position_and_everything_is_sent_again(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        publisher = InMemoryPublisher(fail_after=30)
        relay = Relay(
            container.log, publisher, envelope=CloudEvents(), name="flaky", batch_size=200
        )
        with pytest.raises(PublishFailed):
            relay.run_once()
        assert relay.position() == 0  # nothing acknowledged as a whole: nothing recorded
        publisher.fail_after = None
        assert wait_until_published(relay, container.log.head(), timeout_s=60)
        assert relay.position() == container.log.head()

        whole = InMemoryPublisher()
        self.relayed(container, whole, name="whole")
        expected = {json.loads(m.value)["id"] for t in whole.topics for m in whole.read(t)}
        got = [(t, json.loads(m.value)) for t in publisher.topics for m in publisher.read(t)]
        assert {e["id"] for _, e in got} == expected  # every event at least once
        assert len(got) == len(expected) + 30  # the 30 before the failure, twice
        # Per topic and key, the first time each event arrived follows the log's order.
        firsts: dict[tuple[str, str], list[int]] = defaultdict(list)
        ids: set[str] = set()
        for topic, event in got:
            if event["id"] not in ids:
                ids.add(event["id"])
                firsts[topic, event["subject"]].append(int(event["sequence"]))
        for key, sequence in firsts.items():
            assert sequence == sorted(sequence), key

    def test_a_new_relay_resumes_after_the_acknowledged_position(
        self, api: Api, container: Container, story: dict[str, Any]
    ) -> None:
        first = InMemoryPublisher()
        relay = self.relayed(container, first, name="resumed")
        before = relay.position()
        assert before == container.log.head()
        buyer = story["buyer"]
        self.checkout(api, buyer, self.cart(api, buyer, {story["product"]: 1}))
        second = InMemoryPublisher()
        again = self.relayed(container, second, name="resumed")
        sequences = [
            int(json.loads(m.value)["sequence"]) for t in second.topics for m in second.read(t)
        ]
        assert sequences, "the new event was not published"
        assert min(sequences) > before  # nothing acknowledged before was sent again
        assert again.position() == container.log.head()

    def test_the_notifications_consumer_applies_each_event_once(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        values = self.consumed_values(container)
        outbox = Outbox()
        sent = outbox.sent
        consumer = NotificationsConsumer(container.read_store, outbox)
        first = consumer.handle([b"not json", b'{"id": "x"}', *values])
        assert (first.malformed, first.duplicates) == (2, 0)
        assert first.applied + first.ignored == len(values)
        # The paid order tells the buyer and both sellers; the failed payment, the buyer; the
        # shipped and delivered part, the buyer (twice) and its seller; each step of the return,
        # the seller (asked, shipped) or the buyer (authorized, received).
        assert first.notified == 3 + 1 + 1 + 2 + 4
        again = consumer.handle(values)
        assert (again.duplicates, again.applied, again.notified) == (len(values), 0, 0)
        assert sorted(n.kind for n in sent) == sorted(
            [
                "order_paid",
                "new_order",
                "new_order",
                "payment_failed",
                "order_shipped",
                "order_delivered",
                "order_delivered_seller",
                "return_requested",
                "return_authorized",
                "return_shipped",
                "return_received",
            ]
        )
        assert len({n.notification_id for n in sent}) == len(sent)
        assert {n.tenant_id for n in sent} == {story["tenant_id"]}
        assert consumer.send_pending() == 0  # all taken already

    def test_an_event_sent_again_after_housekeeping_forgot_its_id_adds_nothing(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        values = self.consumed_values(container)
        ids = [json.loads(v)["id"] for v in values]
        outbox = Outbox()
        sent = outbox.sent

        def stored(table: sa.Table) -> int:
            query = sa.select(sa.func.count()).where(table.c.event_id.in_(ids))
            with container.read_store.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())

        consumer = NotificationsConsumer(container.read_store, outbox)
        consumer.handle(values)
        made = stored(notifications)
        assert made >= 7 and stored(consumed_events) == len(values)
        # Within the retention the ids are kept, and a redelivery is known by them.
        assert container.scheduler.housekeep(datetime.now(UTC))["consumed_events"] == 0
        assert consumer.handle(values).duplicates == len(values)
        # A retention later they are gone; the same events again make no new notification.
        retention = timedelta(days=container.settings.consumed_retention_days, minutes=1)
        forgotten = container.scheduler.housekeep(datetime.now(UTC) + retention)
        assert forgotten["consumed_events"] >= len(values)
        assert stored(consumed_events) == 0
        again = consumer.handle(values)
        assert (again.applied, again.notified) == (0, 0)
        assert again.duplicates + again.ignored == len(values) and again.duplicates > 0
        assert stored(notifications) == made
        assert len({n.notification_id for n in sent}) == len(sent)  # no email twice

    def test_a_failing_housekeeping_chore_does_not_stop_the_others(
        self, container: Container
    ) -> None:
        def broken(_: datetime) -> int:
            raise ConnectionError("read store down")

        scheduler = Scheduler(
            container.order_queries,
            container.checkout,
            container.fulfilment,
            container.catalog,
            container.catalog_queries,
            container.sellers,
            container.payout_runs,
            container.reconciliation_runs,
            container.promotions,
            container.promotion_queries,
            chores={"broken": broken, "counted": lambda _: 3},
        )
        assert scheduler.housekeep(datetime.now(UTC)) == {"counted": 3}

    def test_an_email_the_port_refused_is_sent_again_later(
        self, container: Container, story: dict[str, Any]
    ) -> None:
        values = self.consumed_values(container, ["payments"])

        class Flaky(Outbox):
            down = True

            def send(self, email: Email) -> None:
                if self.down:
                    raise ConnectionError("mail server down")
                super().send(email)

        port = Flaky()
        taken = port.sent
        consumer = NotificationsConsumer(container.read_store, port)
        handled = consumer.handle(values)
        assert handled.notified == 1  # the failed payment's buyer
        assert taken == []  # recorded, not sent
        port.down = False
        assert consumer.send_pending() == 1
        assert [n.kind for n in taken] == ["payment_failed"]
        assert consumer.send_pending() == 0  # sent once, marked

    def test_an_approved_revision_is_published_as_an_edit_and_nothing_before_it(
        self, api: Api, root: str, container: Container
    ) -> None:
        """Issue 27's follow-up: where the tenant moderates, an edit of a product's text goes
        live when its revision is approved, and only `product.edited` was published, so
        consumers never saw it. A revision waiting, rejected or withdrawn is not public."""
        m = self.marketplace(api, root, "Revisions")
        seller, _ = self.approved_seller(api, m)
        product = self.product(api, seller, title="Walnut spoon", description="Oiled")
        path = f"/v1/products/{product}"
        assert api.post(f"{path}/approve", token=m.admin_token).status_code == 200
        steps = (
            ({"title": "Golden spoon", "description": "Buy elsewhere"}, None),  # proposed
            ({"price": {"amount": 1_999, "currency": "USD"}}, None),  # live at once
            (None, "reject"),
            ({"title": "Wooden spoon"}, None),
            ({"title": "Walnut spoon"}, None),  # back to the live text: withdrawn
            ({"title": "Golden spoon"}, "approve"),
        )
        for edit, decision in steps:
            if edit is not None:
                patched = api.request("PATCH", path, token=seller, json=edit)
                assert patched.status_code == 200, patched.text
            if decision is not None:
                body = {"reason": "off-site"} if decision == "reject" else None
                decided = api.post(f"{path}/{decision}", token=m.admin_token, json=body)
                assert decided.status_code == 200, decided.text

        publisher = InMemoryPublisher()
        self.relayed(container, publisher)
        published = [json.loads(m.value) for m in publisher.read("velora.catalog")]
        mine = [event for event in published if event["subject"] == product]
        assert [event["type"] for event in mine] == [
            "product.listed",
            "product.approved",
            "product.edited",
            "product.price_lowered",
            "product.edited",
        ]
        repriced, _, approved = (event["data"] for event in mine[2:])
        assert set(approved) == documented()["product.edited"][1]
        # The price edit is live with the approved text; the approval, with the price kept.
        assert (repriced["title"], repriced["price_minor"]) == ("Walnut spoon", 1_999)
        assert approved == {**repriced, "title": "Golden spoon"}
        assert (approved["description"], approved["status"]) == ("Oiled", "active")
        for event in mine:
            assert "Buy elsewhere" not in json.dumps(event)
            assert "Wooden spoon" not in json.dumps(event)
