"""Ledger transfers/s on PostgreSQL with 1 and 8 concurrent writers, in three cases:

- independent: each writer moves money between accounts of its own;
- hot, sharded: every transfer credits platform commission revenue, split into 8 shards;
- hot, single: every transfer credits one account that is not sharded, for comparison.

Each transfer is a full command: load the accounts, check limits, record the transfer and both
account changes atomically through the group-commit event store (built as `velora serve` builds
it), and retry on a version conflict. Prints the figures and writes bench/results/ledger.json.
Timing is never asserted; the tests run it only as `--smoke` (0.2 s per case).

    python bench/ledger.py [--seconds 5] [--pg-url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.persistence import IntegrityError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import report
from bench.eventstore import deployed, drop_database, make_database, pg_arguments
from domain.ledger import HOT_ACCOUNT_SHARDS, Chart
from eventstore.application import VeloraApplication
from eventstore.books import Books
from eventstore.context import CommandContext

CASES = {
    "independent": lambda w: Chart.seller_payable(w),
    "hot_sharded": lambda w: Chart.PLATFORM_COMMISSION,
    "hot_single": lambda w: Chart.REFUNDS,
}


def run_case(app: VeloraApplication, case: str, writers: int, seconds: float) -> dict:
    tenant = uuid.uuid4()
    ctx = CommandContext(actor_id="bench", correlation_id="bench", causation_id="bench")
    done, conflicts = [0] * writers, [0] * writers
    stop = threading.Event()
    start = threading.Barrier(writers + 1)

    def work(i: int) -> None:
        writer = uuid.uuid5(uuid.NAMESPACE_URL, f"bench-writer-{i}")
        credit = CASES[case](writer)
        start.wait()
        n = 0
        while not stop.is_set():
            key = f"bench:{case}:{i}:{n}"
            while True:
                books = Books(app.repository, tenant, "USD")
                books.transfer(key, Chart.seller_receivable(writer), credit, 100, kind="bench")
                try:
                    app.record(ctx, *books.changed())
                    break
                except IntegrityError:
                    conflicts[i] += 1
            n += 1
            done[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {
        "case": case,
        "writers": writers,
        "transfers": sum(done),
        "conflicts_retried": sum(conflicts),
        "seconds": round(elapsed, 3),
        "transfers_per_s": round(sum(done) / elapsed, 1),
    }


def main() -> None:
    args = pg_arguments(__doc__)
    url = make_database(args.pg_url)
    try:
        with deployed(url) as container:
            app = VeloraApplication(container.log)
            runs = [
                run_case(app, case, writers, args.seconds) for case in CASES for writers in (1, 8)
            ]
    finally:
        drop_database(args.pg_url, url)
    print(f"{'case':<14}{'writers':>8}{'transfers/s':>13}{'conflicts':>11}")
    for run in runs:
        print(
            f"{run['case']:<14}{run['writers']:>8}{run['transfers_per_s']:>13,.0f}"
            f"{run['conflicts_retried']:>11,}"
        )
    report.write(
        "ledger",
        {
            "benchmark": "ledger",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "hot_account_shards": HOT_ACCOUNT_SHARDS,
            "seconds_per_run": args.seconds,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
