"""Every benchmark still runs: each bench/*.py in its `--smoke` mode (tiny sizes, the same code
paths, Velora started as a user deploys it wherever the full run starts it), each its own process
with the test environment's services, its JSON written to a temporary directory.

A benchmark nobody runs rots: bench/eventstore.py stopped running when the aggregate cache came
and no one noticed (issue 28). Timing is never asserted; a run passes when it exits 0 and wrote
its JSON. A new script under bench/ must be added here, or the coverage test fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.brokers import kafka_available

BENCH = Path(__file__).resolve().parents[1] / "bench"
# Modules the benchmarks import, not benchmarks themselves.
HELPERS = {"__init__.py", "report.py"}
# Each benchmark: the services it needs (fixtures that skip, or in CI fail, without them) and
# the JSON files its smoke run writes. Longest first: they are started in this order.
SMOKES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "checkout.py": (
        ("pg_server", "mysql_server"),
        ("checkout-embedded.json", "checkout-servers.json"),
    ),
    "restore.py": ((), ("restore-embedded.json",)),
    "analytics.py": ((), ("analytics-embedded.json",)),
    "ledger.py": (("pg_server",), ("ledger.json",)),
    "relay.py": (("pg_server", "kafka"), ("relay.json",)),
    "eventstore.py": (("pg_server",), ("eventstore.json",)),
    "search.py": ((), ("search.json",)),
}
# Two runs at a time: most of a run is starting `velora` processes and waiting on them, so two
# lanes take about half as long on two cores as one, and CI stays short.
LANES = 2
# Far above any smoke run (the slowest takes well under a minute): a hung benchmark fails.
TIMEOUT_S = 300


@dataclass
class Run:
    returncode: int | None  # None: still running at the timeout, then interrupted
    output: str
    results: Path


def run(script: str, where: Path) -> Run:
    """One smoke run. A run past the timeout gets SIGINT, as Ctrl-C, so that its own clean-up
    stops the `velora serve` it started (in a session of its own, out of reach of a kill)."""
    results = where / "results"
    with subprocess.Popen(
        [sys.executable, str(BENCH / script), "--smoke", "--results-dir", str(results)],
        cwd=where,  # no stray .env is read
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            return Run(None, output, results)
    return Run(process.returncode, output, results)


@pytest.fixture(scope="module")
def smoke_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Run]]]:
    """Starts the smoke runs of every selected test at once, LANES at a time."""
    here = Path(__file__)
    selected = {
        item.callspec.params["script"]
        for item in request.session.items
        if item.path == here and getattr(item, "originalname", "") == "test_smoke"
    }
    with ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="bench-smoke") as lanes:
        yield {
            script: lanes.submit(run, script, tmp_path_factory.mktemp(script.removesuffix(".py")))
            for script in SMOKES
            if script in selected
        }


@pytest.fixture
def kafka() -> str:
    return kafka_available()


def test_every_benchmark_has_a_smoke_run() -> None:
    scripts = {path.name for path in BENCH.glob("*.py")} - HELPERS
    assert scripts - SMOKES.keys() == set(), "give these a --smoke mode and list them in SMOKES"
    assert SMOKES.keys() - scripts == set(), "these are listed in SMOKES but are gone"


@pytest.mark.parametrize("script", sorted(SMOKES))
def test_smoke(
    script: str, request: pytest.FixtureRequest, smoke_runs: dict[str, Future[Run]]
) -> None:
    services, outputs = SMOKES[script]
    for service in services:
        request.getfixturevalue(service)
    done = smoke_runs[script].result()
    if done.returncode is None:
        pytest.fail(
            f"{script} --smoke still running after {TIMEOUT_S} s:\n{done.output}", pytrace=False
        )
    if done.returncode != 0:
        pytest.fail(f"{script} --smoke exited {done.returncode}:\n{done.output}", pytrace=False)
    for name in outputs:
        written = done.results / name
        assert written.exists(), f"{script} --smoke did not write {name}:\n{done.output}"
        assert json.loads(written.read_text())["smoke"] is True
