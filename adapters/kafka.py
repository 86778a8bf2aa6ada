"""Kafka, through kafka-python: the relay's publisher, the consumers' source, and the broker
checks of /readyz and of the relay's start."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import suppress
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError, TopicAlreadyExistsError

from eventstore.integration import KINDS
from eventstore.relay import Message, PublishFailed

log = logging.getLogger("velora.kafka")

# Consumer-group timing that both Apache Kafka and Tansu (the test broker) handle promptly.
GROUP_TIMING = {"session_timeout_ms": 10_000, "heartbeat_interval_ms": 3_000}


def _servers(bootstrap: str) -> list[str]:
    return [s.strip() for s in bootstrap.split(",") if s.strip()]


class KafkaPublisher:
    """The idempotent producer with acks=all: the broker writes each message once however often
    the producer retries it, and acknowledges only once every in-sync replica has it. With at
    most five requests in flight per connection, the idempotent producer keeps each
    partition's order through retries."""

    def __init__(
        self, bootstrap: str, *, client_id: str = "velora-relay", timeout_s: float = 30.0
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None

    def _connected(self) -> KafkaProducer:
        if self._producer is None:
            timeout_ms = int(self.timeout_s * 1000)
            self._producer = KafkaProducer(
                bootstrap_servers=_servers(self.bootstrap),
                client_id=self.client_id,
                acks="all",
                enable_idempotence=True,
                max_in_flight_requests_per_connection=5,
                linger_ms=5,
                request_timeout_ms=min(timeout_ms, 30_000),
                delivery_timeout_ms=timeout_ms + 5_000,
                max_block_ms=timeout_ms,
            )
        return self._producer

    def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        try:
            producer = self._connected()
            futures = [
                producer.send(m.topic, value=m.value, key=m.key, headers=list(m.headers))
                for m in messages
            ]
            producer.flush(timeout=self.timeout_s)
            for future in futures:
                future.get(timeout=0)
        except KafkaError as e:
            # A producer that failed may be fenced or out of sequence: start a fresh one.
            self.close()
            raise PublishFailed(f"the broker did not acknowledge the batch: {e!r}") from e

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=5)
            except KafkaError:
                log.warning("kafka producer did not close cleanly", exc_info=True)


def topic_names(prefix: str) -> list[str]:
    return [f"{prefix}.{kind}" for kind in KINDS]


class Broker:
    """The cluster as an administrator sees it."""

    def __init__(self, bootstrap: str, *, timeout_s: float = 5.0) -> None:
        self.bootstrap = bootstrap
        self.timeout_s = timeout_s

    def _admin(self) -> KafkaAdminClient:
        timeout_ms = int(self.timeout_s * 1000)
        return KafkaAdminClient(
            bootstrap_servers=_servers(self.bootstrap),
            client_id="velora-admin",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )

    def ping(self) -> None:
        """Raises unless a broker answers a metadata request."""
        admin = self._admin()
        try:
            admin.list_topics()
        finally:
            admin.close()

    def ensure_topics(self, names: Iterable[str], *, partitions: int, replication: int) -> None:
        """Creates the topics that do not exist yet; leaves existing ones as they are."""
        admin = self._admin()
        try:
            missing = set(names) - set(admin.list_topics())
            if not missing:
                return
            spec = {"num_partitions": partitions, "replication_factor": replication}
            # Another process may create one meanwhile; that is as good.
            with suppress(TopicAlreadyExistsError):
                admin.create_topics({name: dict(spec) for name in sorted(missing)})
        finally:
            admin.close()


class KafkaSource:
    """A consumer group's view of some topics. Offsets are committed only when asked, after
    the records' effects have committed, so a crash re-delivers rather than loses."""

    def __init__(
        self,
        bootstrap: str,
        group_id: str,
        topics: Sequence[str],
        *,
        client_id: str = "velora-consumer",
        max_records: int = 200,
    ) -> None:
        self._consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=_servers(bootstrap),
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=max_records,
            **GROUP_TIMING,
        )

    def poll(self, timeout_s: float) -> list[Any]:
        """The next records, each partition's in offset order."""
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        return [record for records in batches.values() for record in records]

    def commit(self) -> None:
        self._consumer.commit()

    def close(self) -> None:
        self._consumer.close(autocommit=False)
