"""Event-store write throughput on PostgreSQL, in one run:

- command appends/s through Velora's application and group-commit recorder, 1 and 8 writers,
  on the event log built as `velora serve` builds it (the composition root, from settings);
- the same with the eventsourcing library's stock recorder (table lock per save), for reference;
- raw one-row INSERT transactions/s with plain psycopg at the same concurrency.

Each command is a one-event save of a small aggregate, with the full envelope and JSON mapping.
Prints a table and writes JSON under bench/results/. Target: with 8 writers, command appends/s at
least half of the raw INSERT rate. Timing is never asserted; the tests run it only as `--smoke`
(0.2 s per run), to prove it still runs.

    python bench/eventstore.py [--seconds 5] [--pg-url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.bootstrap import Container, build
from api.settings import Settings
from bench import report
from eventstore.application import VeloraApplication
from eventstore.context import CommandContext
from eventstore.log import EventLog
from eventstore.mapper import EnvelopeMapper
from eventstore.outbox import RelayPositions
from eventstore.personal import PersonalKeys
from eventstore.postgres import EVENTS_TABLE, GroupCommitRecorder, datastore_from_url
from tests.aggregates import Counter

# Long enough to run every writer's loop many times; the figures mean nothing.
SMOKE_SECONDS = 0.2


def timed(workers: int, seconds: float, op_factory: Callable[[], Callable[[], None]]) -> dict:
    """Runs `workers` threads, each repeating its op until time is up; returns ops/s."""
    counts = [0] * workers
    errors: list[BaseException] = []
    start_line = threading.Barrier(workers + 1)
    stop = threading.Event()

    def work(i: int) -> None:
        op = op_factory()
        start_line.wait()
        try:
            while not stop.is_set():
                op()
                counts[i] += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    start_line.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return {
        "workers": workers,
        "ops": sum(counts),
        "seconds": round(elapsed, 3),
        "ops_per_s": round(sum(counts) / elapsed, 1),
    }


def pg_parser(doc: str | None, *, with_seconds: bool = True) -> argparse.ArgumentParser:
    """The options every PostgreSQL benchmark takes: the server, and how long each run lasts
    (if its runs are timed)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    if with_seconds:
        parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "VELORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    return parser


def pg_arguments(doc: str | None) -> argparse.Namespace:
    return report.arguments(pg_parser(doc), smoke={"seconds": SMOKE_SECONDS})


def make_database(server_url: str) -> str:
    name = f"velora_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def deployed(url: str) -> Iterator[Container]:
    """Velora on the event store at `url`, built as `velora serve` builds it (the composition
    root, from settings) and migrated as `velora migrate` migrates it: its log is the one a
    deployment writes through (Velora's own recorder, pool and envelope mapper)."""
    with tempfile.TemporaryDirectory(prefix="velora-bench-") as data_dir:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=Path(data_dir),
            eventstore_url=url,
            secret_key=secrets.token_urlsafe(48),
        )
        container = build(settings)
        try:
            container.migrate()
            yield container
        finally:
            container.close()


def command_appends(log: EventLog, workers: int, seconds: float) -> dict:
    app = VeloraApplication(log)
    tenant = uuid.uuid4()

    def factory() -> Callable[[], None]:
        ctx = CommandContext(actor_id="bench", correlation_id="bench", causation_id="bench")
        return lambda: app.record(ctx, Counter(tenant_id=tenant)) and None

    return timed(workers, seconds, factory)


def raw_inserts(url: str, workers: int, seconds: float) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, "
            "aggregate uuid NOT NULL, payload bytea NOT NULL)"
        )
    payload = b"x" * 300  # about the size of one stored event's envelope

    def factory() -> Callable[[], None]:
        conn = psycopg.connect(url, autocommit=True)
        statement = "INSERT INTO bench_raw (aggregate, payload) VALUES (%s, %s)"
        return lambda: conn.execute(statement, (uuid.uuid4(), payload), prepare=True) and None

    return timed(workers, seconds, factory)


class LibraryRecorder(PostgresApplicationRecorder):
    """The eventsourcing library's own recorder (LOCK TABLE ... EXCLUSIVE and a commit per save),
    with the one read Velora's event log needs of any recorder: the positions, ids and versions
    its aggregate cache follows. Without it the log cannot be built on this recorder at all."""

    def select_changes(self, after: int, limit: int) -> list[tuple[int, Any, int]]:
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version FROM {schema}.{table} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (after, limit), prepare=True)
            return [
                (r["notification_id"], r["originator_id"], r["originator_version"])
                for r in curs.fetchall()
            ]


def stock_log(url: str) -> EventLog:
    """The library's own recorder beside Velora's, in the same database."""
    datastore = datastore_from_url(url)
    recorder = LibraryRecorder(datastore, events_table_name="stock_events")
    recorder.create_table()
    snapshots = PostgresAggregateRecorder(datastore, events_table_name="stock_snapshots")
    return EventLog(
        recorder,
        EnvelopeMapper(),
        "postgres",
        snapshots,
        PersonalKeys(datastore, "bench"),
        RelayPositions(datastore),
    )


def main() -> None:
    args = pg_arguments(__doc__)

    url = make_database(args.pg_url)
    try:
        with deployed(url) as container:
            velora = container.log
            if not isinstance(velora.recorder, GroupCommitRecorder):
                raise SystemExit(f"not Velora's recorder: {type(velora.recorder).__name__}")
            stock = stock_log(url)
            runs = {}
            for workers in (1, 8):
                runs[f"raw_insert_{workers}"] = raw_inserts(url, workers, args.seconds)
                runs[f"velora_group_commit_{workers}"] = command_appends(
                    velora, workers, args.seconds
                )
                runs[f"library_table_lock_{workers}"] = command_appends(
                    stock, workers, args.seconds
                )
            stock.close()
        with psycopg.connect(url) as conn:
            stored = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]
    finally:
        drop_database(args.pg_url, url)

    ratio_8 = runs["velora_group_commit_8"]["ops_per_s"] / runs["raw_insert_8"]["ops_per_s"]
    ratio_1 = runs["velora_group_commit_1"]["ops_per_s"] / runs["raw_insert_1"]["ops_per_s"]
    with psycopg.connect(args.pg_url) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    result = {
        "benchmark": "eventstore",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": server_version,
        },
        "seconds_per_run": args.seconds,
        "runs": runs,
        "velora_events_stored": stored,
        "ratio_velora_to_raw_1_writer": round(ratio_1, 3),
        "ratio_velora_to_raw_8_writers": round(ratio_8, 3),
        "target_ratio_8_writers": 0.5,
        "target_met": ratio_8 >= 0.5,
    }
    print(f"{'run':<28}{'writers':>8}{'ops/s':>12}")
    for name, run in runs.items():
        print(f"{name:<28}{run['workers']:>8}{run['ops_per_s']:>12,.0f}")
    print(f"velora / raw with 1 writer:  {ratio_1:.2f}")
    print(
        f"velora / raw with 8 writers: {ratio_8:.2f} (target >= 0.50: "
        f"{'met' if ratio_8 >= 0.5 else 'NOT met'})"
    )
    report.write("eventstore", result)


if __name__ == "__main__":
    main()
