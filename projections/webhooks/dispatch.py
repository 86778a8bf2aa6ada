"""The webhook dispatcher: sends the outbox's deliveries (projections/webhooks/outbox.py), each
signed with its endpoint's secret, and records what each attempt got.

**Order.** An endpoint gets each aggregate's events in the order they happened: a delivery is
sent only when no earlier one of the same endpoint and subject is still to be delivered
(pending or failing). A dead one no longer holds the others back.

**At least once.** A delivery is claimed with a lease before it is sent, and its outcome is
recorded as soon as it is known. A dispatcher killed mid-batch records nothing for what it had
in flight; its leases run out and another dispatcher (or the same, restarted) sends those
again. Receivers drop repeats by `Velora-Event-Id`, which is the CloudEvent's id.

**Retries.** Any 2xx is delivered. Anything else (another status, a redirect, which is never
followed, a timeout, a refused address, a cut connection) is a failed attempt, tried again after
an exponential backoff with jitter (`RetryPolicy`), until three days after its first attempt:
then it is dead. An admin may send any delivery again (`retry`), which starts its three days
over."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

import sqlalchemy as sa

from projections.background import Background
from projections.scope import TenantScope
from projections.store import ReadStore, naive_utc, utcnow
from projections.webhooks.tables import webhook_deliveries as d
from projections.webhooks.tables import webhook_endpoints as e

log = logging.getLogger("velora.webhooks")

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
TO_DELIVER = ("pending", "failing")


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the receiver's status code, or why there was none."""

    status_code: int | None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Deliverer(Protocol):
    """Posts one delivery (adapters/webhooks.py): never follows a redirect, and connects only
    where the URL rules allow (domain/webhooks.py `is_public`), judged after its own DNS
    lookup at every call. Never raises for what the receiver or the network did."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    first_s: float = 30.0
    longest_s: float = 6 * 3600.0
    give_up_after_s: float = 3 * 24 * 3600.0
    jitter: float = 0.25  # each wait is its backoff times a random factor in 1 ± jitter

    def wait_s(self, attempts: int, rng: random.Random) -> float:
        """The wait after the `attempts`-th failed attempt: doubling from `first_s`."""
        backoff = min(self.first_s * 2 ** min(attempts - 1, 40), self.longest_s)
        return float(backoff * rng.uniform(1 - self.jitter, 1 + self.jitter))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Velora-Signature` header: `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    endpoint_id: str
    event_id: str
    url: str
    sealed_secret: str
    body: str
    attempts: int
    first_attempt_at: datetime | None


class Dispatcher(Background):
    def __init__(
        self,
        store: ReadStore,
        deliverer: Deliverer,
        secret_of: Callable[[UUID, str], str],
        *,
        policy: RetryPolicy | None = None,
        batch_size: int = 32,
        senders: int = 8,
        lease_s: float = 120.0,
        poll_interval_s: float = 0.5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__("webhooks")
        self.store = store
        self.deliverer = deliverer
        self.secret_of = secret_of
        self.policy = policy or RetryPolicy()
        self.batch_size = batch_size
        self.senders = senders
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.name = f"dispatcher-{uuid4().hex[:12]}"
        self._rng = random.Random()
        # Told what each attempt made of its delivery (delivered, failing, dead): metrics.
        self.on_outcome: Callable[[str], None] = lambda _status: None
        self._rng_lock = threading.Lock()

    def run_once(self) -> int:
        """Sends every delivery due now that is first in its order, up to a batch; returns how
        many it attempted."""
        claimed = self._claim()
        if not claimed:
            return 0
        with ThreadPoolExecutor(self.senders, thread_name_prefix="webhook-send") as pool:
            list(pool.map(self._send, claimed))
        return len(claimed)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.run_once():
                self._wake.wait(self.poll_interval_s)
                self._wake.clear()
            self.crash = None

    def _claim(self) -> list[Claimed]:
        now = self.clock()
        earlier = d.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.endpoint_id == d.c.endpoint_id,
            earlier.c.subject == d.c.subject,
            earlier.c.created_position < d.c.created_position,
            earlier.c.status.in_(TO_DELIVER),
        )
        free = sa.or_(d.c.lease_until.is_(None), d.c.lease_until < now)
        due = (
            sa.select(d.c.delivery_id)
            .join(e, e.c.endpoint_id == d.c.endpoint_id)
            .where(
                d.c.status.in_(TO_DELIVER),
                d.c.next_attempt_at <= now,
                e.c.deleted_at.is_(None),
                free,
                ~blocked,
            )
            .order_by(d.c.next_attempt_at, d.c.created_position)
            .limit(self.batch_size)
        )
        # Looking costs no write lock (SQLite has one for the whole database): most polls find
        # nothing. Claiming re-checks what it looked at, since another dispatcher may be first.
        with self.store.read() as conn:
            ids = [row.delivery_id for row in conn.execute(due)]
        if not ids:
            return []
        until = now + timedelta(seconds=self.lease_s)
        with self.store.begin() as conn:
            conn.execute(
                d.update()
                .where(
                    d.c.delivery_id.in_(ids),
                    d.c.status.in_(TO_DELIVER),
                    d.c.next_attempt_at <= now,
                    free,
                )
                .values(leased_by=self.name, lease_until=until)
            )
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(
                    d.c.delivery_id,
                    d.c.endpoint_id,
                    d.c.event_id,
                    e.c.url,
                    e.c.sealed_secret,
                    d.c.body,
                    d.c.attempts,
                    d.c.first_attempt_at,
                )
                .join(e, e.c.endpoint_id == d.c.endpoint_id)
                .where(d.c.delivery_id.in_(ids), d.c.leased_by == self.name)
                .order_by(d.c.created_position)
            )
            return [Claimed(**row._mapping) for row in rows]

    def _send(self, delivery: Claimed) -> None:
        if self._stop.is_set():
            return  # stopping: its lease runs out and it is sent again
        body = delivery.body.encode()
        try:
            secret = self.secret_of(UUID(delivery.endpoint_id), delivery.sealed_secret)
        except Exception as exc:  # a secret that does not open: an operator's problem, logged
            log.error(
                "webhook endpoint %s: its secret does not open: %s", delivery.endpoint_id, exc
            )
            outcome = Outcome(
                None, "the endpoint's secret does not open with this deployment's key"
            )
        else:
            headers = {
                "Content-Type": CONTENT_TYPE,
                "User-Agent": "Velora-Webhooks/1",
                "Velora-Event-Id": delivery.event_id,
                "Velora-Signature": signature(secret, int(time.time()), body),
            }
            outcome = self.deliverer.post(delivery.url, body, headers)
        try:
            self._record(delivery, outcome)
        except Exception:  # the lease runs out and the delivery is sent again: at least once
            log.warning(
                "webhook delivery %s: outcome not recorded", delivery.delivery_id, exc_info=True
            )

    def _record(self, delivery: Claimed, outcome: Outcome) -> None:
        now = self.clock()
        attempts = delivery.attempts + 1
        first = delivery.first_attempt_at or now
        values: dict[str, Any] = {
            "attempts": attempts,
            "first_attempt_at": first,
            "last_status_code": outcome.status_code,
            "last_error": (outcome.error or "")[:300] or None,
            "leased_by": None,
            "lease_until": None,
        }
        if outcome.delivered:
            values.update(status="delivered", delivered_at=now, next_attempt_at=None)
        elif (now - first).total_seconds() >= self.policy.give_up_after_s:
            values.update(status="dead", next_attempt_at=None)
        else:
            with self._rng_lock:
                wait_s = self.policy.wait_s(attempts, self._rng)
            values.update(status="failing", next_attempt_at=now + timedelta(seconds=wait_s))
        with self.store.begin() as conn:
            conn.execute(
                d.update()
                .where(d.c.delivery_id == delivery.delivery_id, d.c.leased_by == self.name)
                .values(**values)
            )
        self.on_outcome(values["status"])


def retry(store: ReadStore, scope: TenantScope, endpoint_id: str, delivery_id: str) -> bool:
    """Sends a delivery again as soon as its order allows, whatever its status, with three days
    before it is dead again. False when the endpoint has no such delivery in the scope."""
    with store.begin() as conn:
        mine = scope.select(d, d.c.endpoint_id == endpoint_id, d.c.delivery_id == delivery_id)
        if conn.execute(mine.with_only_columns(d.c.delivery_id)).first() is None:
            return False
        conn.execute(
            d.update()
            .where(d.c.delivery_id == delivery_id)
            .values(status="pending", next_attempt_at=utcnow(), first_attempt_at=None)
        )
        return True


def forget_settled(store: ReadStore, before: datetime) -> int:
    """Deletes the deliveries made before `before` that are delivered or dead: the delivery
    log's retention. Those still to be delivered stay, whatever their age."""
    with store.begin() as conn:
        query = sa.delete(d).where(
            d.c.status.in_(("delivered", "dead")), d.c.created_at < naive_utc(before)
        )
        return int(conn.execute(query).rowcount)
