"""The relay: follows the event log (the outbox) and publishes each event's integration events,
in log order, to a broker.

A batch is published, and the relay's position moves past it only once the broker has
acknowledged every message in it. A crash or a broker failure anywhere before that leaves the
position where it was, so the batch is published again: every event reaches the broker at
least once, and consumers drop repeats by the CloudEvents `id`, which is the same every time.
One relay per log and name runs at a time (`EventLog.exclusive`); a second one waits. A relay
that finds its lock gone before a batch (its database session was cut) stops and queues for it
again, so two relays overlap by one batch at most, and that batch is only sent twice.

The relay knows two ports, both given by the composition root: the `Publisher` that hands
messages to a broker (Kafka, adapters/kafka.py) and the `Envelope` that turns an integration
event into a message's bytes (CloudEvents, adapters/cloudevents.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError

from eventstore.integration import IntegrationEvent, Translator
from eventstore.locks import Busy, LockLost, StillHeld
from eventstore.log import EventLog

log = logging.getLogger("velora.relay")


class PublishFailed(RuntimeError):
    """The broker did not acknowledge every message of a batch."""


# Failures that pass: the batch is published again later. Anything else is a bug, and the relay
# stops on it rather than skip an event.
TRANSIENT = (PublishFailed, OperationalError, InterfaceError)


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Publisher(Protocol):
    """A broker's producer. `publish` returns once every message is acknowledged by the broker
    (with all in-sync replicas), or raises PublishFailed; messages with the same key reach
    their partition in the order given."""

    def publish(self, messages: Sequence[Message]) -> None: ...

    def close(self) -> None: ...


class Envelope(Protocol):
    """The format integration events travel in: the bytes of each event, and the content type
    that names them (a message's `content-type` header)."""

    content_type: str

    def encode(self, event: IntegrationEvent) -> bytes: ...


class Origins:
    """The event that created each aggregate, read once and kept: it never changes. And an
    aggregate as it was at a version, which never changes either."""

    def __init__(self, log_: EventLog, size: int = 10_000) -> None:
        self.log = log_
        self.get: Callable[[UUID], Any] = lru_cache(maxsize=size)(self._load)

    def _load(self, aggregate_id: UUID) -> Any:
        (first,) = self.log.recorder.select_events(aggregate_id, limit=1)
        return self.log.mapper.to_domain_event(first)

    def as_of(self, aggregate_id: UUID, version: int) -> Any:
        aggregate = None
        for stored in self.log.recorder.select_events(aggregate_id, lte=version):
            event: Any = self.log.mapper.to_domain_event(stored)
            aggregate = event.mutate(aggregate)
        return aggregate


@dataclass(frozen=True)
class Batch:
    position: int  # the log position now published up to
    events: int  # log events moved past
    messages: int  # messages acknowledged by the broker


class Relay:
    def __init__(
        self,
        log_: EventLog,
        publisher: Publisher,
        *,
        envelope: Envelope,
        name: str = "kafka",
        topic_prefix: str = "velora",
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        on_batch: Callable[[Batch], None] = lambda _: None,
    ) -> None:
        self.log = log_
        self.publisher = publisher
        self.envelope = envelope
        self.name = name
        self.topic_prefix = topic_prefix
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.on_batch = on_batch
        origins = Origins(log_)
        self.translator = Translator(origins.get, origins.as_of)

    def position(self) -> int:
        return self.log.relay_positions.get(self.name)

    def run_once(self) -> int:
        """Publishes the next batch and moves the position past it. Returns how many log
        events it moved past (0: caught up)."""
        notifications = self.log.read_raw(self.position(), self.batch_size)
        if not notifications:
            return 0
        content_type = self.envelope.content_type.encode()
        messages = [
            Message(
                topic=event.topic(self.topic_prefix),
                key=str(event.key).encode(),
                value=self.envelope.encode(event),
                headers=(("content-type", content_type),),
            )
            for n in notifications
            if n.topic in self.translator.topics
            for event in self.translator.translate(self.log.mapper.to_recorded(n))
        ]
        self.publisher.publish(messages)
        position = notifications[-1].id
        self.log.relay_positions.set(self.name, position)
        self.on_batch(Batch(position, len(notifications), len(messages)))
        return len(notifications)

    def run(self, stop: threading.Event, *, max_backoff_s: float = 30.0) -> None:
        """Publishes until `stop` is set. Waits while another relay of the same name runs, and
        retries after a failure, from the stored position, with growing pauses."""
        while not stop.is_set():
            try:
                with self.log.exclusive(f"relay-{self.name}") as still_held:
                    log.info("relay %s publishing from position %d", self.name, self.position())
                    self._follow(stop, max_backoff_s, still_held)
                    return
            except Busy:
                log.info("relay %s: another one is running; waiting", self.name)
                stop.wait(5.0)
            except LockLost as e:  # another relay may have it now: stop, and queue for it again
                log.warning("relay %s: %s; taking it again", self.name, e)

    def _follow(self, stop: threading.Event, max_backoff_s: float, still_held: StillHeld) -> None:
        backoff_s = self.poll_interval_s
        while not stop.is_set():
            still_held()  # no batch starts without the lock, so two relays share one at most
            try:
                moved = self.run_once()
            except TRANSIENT as e:  # the broker or the store: publish this batch again later
                log.warning("relay %s: %s; retrying in %.1f s", self.name, e, backoff_s)
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, max_backoff_s)
                continue
            backoff_s = self.poll_interval_s
            if not moved:
                stop.wait(self.poll_interval_s)


def wait_until_published(relay: Relay, position: int, timeout_s: float) -> bool:
    """Drives the relay in this thread until it has published `position` (tests, benchmarks)."""
    deadline = time.monotonic() + timeout_s
    while relay.position() < position:
        if time.monotonic() > deadline:
            return False
        if not relay.run_once():
            time.sleep(0.05)
    return True
