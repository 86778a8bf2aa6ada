"""The relay's throughput on PostgreSQL into a Kafka-protocol broker: log events moved past, and
CloudEvents acknowledged, per second, at several batch sizes.

It records ledger transfers first (each command: the transfer and its two account entries, of
which the transfer's events are published), then relays the whole log from position 0 once per
batch size, under a relay name of its own each time, to topics of its own. The log is built as
`velora serve` builds it. Prints the figures and writes bench/results/relay.json. Timing is never
asserted; the tests run it only as `--smoke` (40 transfers).

    VELORA_TEST_KAFKA_BOOTSTRAP=127.0.0.1:9092 python bench/relay.py [--transfers 3000] [--pg-url …]
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.cloudevents import CloudEvents
from adapters.kafka import Broker, KafkaPublisher, topic_names
from bench import report
from bench.eventstore import deployed, drop_database, make_database, pg_parser
from domain.ledger import Chart
from eventstore.application import VeloraApplication
from eventstore.books import Books
from eventstore.context import CommandContext
from eventstore.log import EventLog
from eventstore.relay import Relay, wait_until_published

TRANSFERS = 3_000
BATCH_SIZES = (50, 500)


def record_transfers(log: EventLog, count: int) -> None:
    app = VeloraApplication(log)
    tenant = uuid.uuid4()
    ctx = CommandContext(actor_id="bench", correlation_id="bench", causation_id="bench")
    for n in range(count):
        seller = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-seller-{n % 50}")
        books = Books(app.repository, tenant, "USD")
        books.transfer(
            f"bench:{n}",
            Chart.seller_receivable(seller),
            Chart.seller_payable(seller),
            100,
            kind="bench",
        )
        app.record(ctx, *books.changed())


def relay_once(log: EventLog, bootstrap: str, batch_size: int) -> dict:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    Broker(bootstrap).ensure_topics(topic_names(prefix), partitions=6, replication=1)
    published = []
    publisher = KafkaPublisher(bootstrap)
    relay = Relay(
        log,
        publisher,
        envelope=CloudEvents(),
        name=prefix,
        topic_prefix=prefix,
        batch_size=batch_size,
        on_batch=lambda batch: published.append(batch.messages),
    )
    head = log.head()
    began = time.perf_counter()
    if not wait_until_published(relay, head, timeout_s=600):
        raise SystemExit(f"the relay did not reach {head} in 10 minutes")
    elapsed = time.perf_counter() - began
    publisher.close()
    return {
        "batch_size": batch_size,
        "log_events": head,
        "messages": sum(published),
        "seconds": round(elapsed, 3),
        "log_events_per_s": round(head / elapsed, 1),
        "messages_per_s": round(sum(published) / elapsed, 1),
    }


def main() -> None:
    parser = pg_parser(__doc__, with_seconds=False)
    parser.add_argument("--transfers", type=int, default=TRANSFERS)
    args = report.arguments(parser, smoke={"transfers": 40})
    bootstrap = os.environ.get("VELORA_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    url = make_database(args.pg_url)
    try:
        with deployed(url) as container:
            record_transfers(container.log, args.transfers)
            runs = [relay_once(container.log, bootstrap, size) for size in BATCH_SIZES]
    finally:
        drop_database(args.pg_url, url)
    print(f"{'batch':>6}{'log events/s':>14}{'messages/s':>12}")
    for run in runs:
        print(
            f"{run['batch_size']:>6}{run['log_events_per_s']:>14,.0f}{run['messages_per_s']:>12,.0f}"
        )
    report.write(
        "relay",
        {
            "benchmark": "relay",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "broker": bootstrap,
            "transfers": args.transfers,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
