"""Brokers for the relay and consumer tests: an in-memory fake that implements the Publisher
interface (held to the same contract as Kafka in tests/contract), and helpers that read a real
Kafka-protocol broker's topics back."""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from adapters.kafka import Broker
from eventstore.relay import Message, PublishFailed

KAFKA_BOOTSTRAP = os.environ.get("VELORA_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
PARTITIONS = 4


@dataclass
class InMemoryPublisher:
    """Partitions by key as Kafka does (a hash of the key), and keeps each partition's order.
    `fail_after` makes the publish that would take the total past it raise PublishFailed,
    having delivered the messages before that point: a broker that went away mid-batch."""

    topics: dict[str, dict[int, list[Message]]] = field(default_factory=dict)
    fail_after: int | None = None
    delivered: int = 0

    def publish(self, messages: Sequence[Message]) -> None:
        for message in messages:
            if self.fail_after is not None and self.delivered >= self.fail_after:
                raise PublishFailed("the broker went away")
            partition = zlib.crc32(message.key) % PARTITIONS
            self.topics.setdefault(message.topic, {}).setdefault(partition, []).append(message)
            self.delivered += 1

    def close(self) -> None:
        pass

    def read(self, topic: str) -> list[Message]:
        return [m for p in sorted(self.topics.get(topic, {})) for m in self.topics[topic][p]]


def kafka_available() -> str:
    """The test broker's address; skips (or in CI fails) when none answers."""
    from tests.conftest import REQUIRE_SERVICES

    try:
        Broker(KAFKA_BOOTSTRAP, timeout_s=3).ping()
    except Exception as e:
        message = f"no Kafka broker at {KAFKA_BOOTSTRAP} ({e!r}); `make services` starts Tansu"
        if REQUIRE_SERVICES:
            pytest.fail(f"VELORA_REQUIRE_SERVICES=1 but {message}", pytrace=False)
        pytest.skip(message)
    return KAFKA_BOOTSTRAP


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]

    def event(self) -> dict[str, Any]:
        return json.loads(self.value)  # type: ignore[no-any-return]


def read_topics(
    bootstrap: str,
    topics: Sequence[str],
    until: Callable[[list[Record]], bool],
    timeout_s: float = 30.0,
) -> list[Record]:
    """Every record on the topics from the start, read without a consumer group, until `until`
    holds (or the time is up). Partitions are read in offset order."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False)
    try:
        deadline = time.monotonic() + timeout_s
        partitions: list[TopicPartition] = []
        while time.monotonic() < deadline:
            partitions = [
                TopicPartition(t, p)
                for t in topics
                for p in sorted(consumer.partitions_for_topic(t) or ())
            ]
            if partitions:
                break
            time.sleep(0.2)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Record] = []
        while time.monotonic() < deadline and not until(records):
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(
                    Record(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers))
                    for r in batch
                )
        return records
    finally:
        consumer.close()
