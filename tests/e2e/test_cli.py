"""The `velora` command as an operator runs it: real processes, a real socket."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from api.bootstrap import build
from api.settings import Settings
from eventstore.log import open_event_log
from eventstore.personal import PersonalKeysLocked

VELORA = str(Path(sys.executable).with_name("velora"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VELORA_")}
    env.update(VELORA_DATA_DIR=str(data_dir), **extra)
    return env


def run(data_dir: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VELORA, *args],
        env=clean_env(data_dir, **extra),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for(url: str, timeout_s: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def serving(cwd: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """`velora serve` on a free port, as an operator starts it; yields its base URL, and stops
    it with Ctrl-C (killed if it will not stop)."""
    port = free_port()
    proc = subprocess.Popen(
        [VELORA, "serve", "--port", str(port), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", timeout_s=90)  # a loaded machine starts it slowly
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / ".velora"
    with serving(tmp_path, clean_env(data_dir)) as base:
        yield base, data_dir


def test_serve_runs_the_embedded_default_end_to_end(server: tuple[str, Path]) -> None:
    base, data_dir = server
    assert (data_dir / "events.sqlite3").exists() and (data_dir / "read.sqlite3").exists()
    created = run(
        data_dir,
        "admin",
        "create-superuser",
        "--email",
        "ops@x.test",
        "--password",
        "long-enough-pw",
    )
    assert created.returncode == 0, created.stdout + created.stderr
    assert "created" in created.stdout
    again = run(
        data_dir,
        "admin",
        "create-superuser",
        "--email",
        "OPS@x.test",
        "--password",
        "long-enough-pw",
    )
    assert again.returncode == 0 and "already exists" in again.stdout
    # The operator's command is on record, attributed to the CLI.
    container = build(Settings(data_dir=data_dir))
    try:
        recorded = container.log.read(0, 10)
        assert [r.type_name for r in recorded] == ["User.Registered", "EmailClaim.Claimed"]
        assert {r.meta["actor_id"] for r in recorded} == {"system:cli:create-superuser"}
        assert recorded[0].event.email == "ops@x.test"  # opened with the deployment's key
    finally:
        container.close()
    # Without the deployment's secret, the personal keys open nothing, and say why.
    stranger = open_event_log(None, data_dir, secret="not-this-deployment")
    try:
        with pytest.raises(PersonalKeysLocked, match="VELORA_SECRET_KEY"):
            stranger.read(0, 10)
    finally:
        stranger.close()

    # The in-process projector picks up events another process wrote.
    deadline = time.monotonic() + 20
    while True:
        token = httpx.post(
            f"{base}/v1/auth/token", json={"email": "ops@x.test", "password": "long-enough-pw"}
        )
        if token.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    tenant = httpx.post(
        f"{base}/v1/tenants",
        headers=auth,
        json={"name": "Cli", "currency": "USD", "commission_bps": 5, "escrow_hold_days": 0},
    )
    assert tenant.status_code == 201
    position = tenant.headers["X-Velora-Position"]
    got = httpx.get(
        f"{base}/v1/tenants/{tenant.json()['id']}",
        headers={**auth, "X-Velora-Min-Position": position},
    )
    assert got.status_code == 200 and got.json()["name"] == "Cli"
    assert httpx.get(f"{base}/docs").status_code == 200
    assert httpx.get(f"{base}/readyz").json()["ready"] is True


def test_the_project_worker_catches_up_and_status_shows_no_lag(tmp_path: Path) -> None:
    data_dir = tmp_path / ".velora"
    assert run(data_dir, "migrate").returncode == 0
    assert (
        run(
            data_dir,
            "admin",
            "create-superuser",
            "--email",
            "a@x.test",
            "--password",
            "long-enough-pw",
        ).returncode
        == 0
    )
    lagging = run(data_dir, "projections", "status")
    assert "identity" in lagging.stdout and "│ 2 " in lagging.stdout  # head 2, lag 2

    worker = subprocess.Popen(
        [VELORA, "project"],
        env=clean_env(data_dir),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            status = run(data_dir, "projections", "status").stdout
            row = next(line for line in status.splitlines() if "identity" in line)
            cells = [c.strip() for c in row.strip("│ ").split("│")]
            if cells[1] == cells[2] == "2" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert cells[1:4] == ["2", "2", "0"], status
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0


def test_real_servers_without_a_strong_secret_refuse_to_start(tmp_path: Path) -> None:
    result = run(
        tmp_path / ".velora",
        "migrate",
        VELORA_EVENTSTORE_URL="postgresql://nobody@127.0.0.1:1/none",
        VELORA_SECRET_KEY="changeme",
    )
    assert result.returncode == 2
    assert "VELORA_SECRET_KEY" in result.stdout


def test_configuration_mistakes_are_told_in_one_line_naming_the_variable(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / ".velora"
    mistakes = {
        "VELORA_READ_DB_URL": {"VELORA_READ_DB_URL": "mysq://velora@db/velora"},
        "VELORA_EVENTSTORE_URL": {"VELORA_EVENTSTORE_URL": "mysql://velora@db/velora"},
        "VELORA_LOG_FORMAT": {"VELORA_LOG_FORMAT": "xml"},
        "VELORA_LOG_LEVEL": {"VELORA_LOG_LEVEL": "LOUD"},
        "velora migrate": {},  # a command before the stores are set up
    }
    for named, env in mistakes.items():
        result = run(data_dir, "projections", "status", **env)
        told = result.stdout + result.stderr
        assert result.returncode == 2, (named, told)
        assert named in told and "Traceback" not in told, (named, told)
        assert len(result.stderr.strip().splitlines()) == 1, (named, told)
    shown = run(data_dir, "projections", "status", "--debug", VELORA_LOG_FORMAT="xml")
    assert shown.returncode != 0 and "Traceback" in shown.stderr
    # A misspelt setting is warned of (it would be ignored), naming the one it resembles.
    assert run(data_dir, "migrate").returncode == 0
    typo = run(data_dir, "projections", "status", VELORA_READ_DB_ULR="sqlite:///x")
    assert typo.returncode == 0, typo.stdout + typo.stderr
    assert "VELORA_READ_DB_ULR" in typo.stderr and "VELORA_READ_DB_URL?" in typo.stderr
    lower = run(data_dir, "projections", "status", VELORA_LOG_LEVEL="debug")
    assert lower.returncode == 0, lower.stdout + lower.stderr


def test_rebuild_names_what_it_can_rebuild_and_rebuilds_search(tmp_path: Path) -> None:
    data_dir = tmp_path / ".velora"
    assert run(data_dir, "migrate").returncode == 0
    unknown = run(data_dir, "projections", "rebuild", "nonsense")
    assert unknown.returncode == 2
    container = build(Settings(_env_file=None, data_dir=data_dir))  # type: ignore[call-arg]
    every_model = {runner.name for runner in container.runners}
    container.close()
    named = " ".join(unknown.stdout.split()).split("rebuildable: ", 1)[1]
    # All but the webhook outbox, whose deliveries record what was sent: no replay of the log
    # could make them again (projections/webhooks/outbox.py).
    assert set(named.split(", ")) == every_model - {"webhook_outbox"}
    assert {"identity", "profiles", "categories", "catalog", "search", "ledger"} <= every_model
    neither = run(data_dir, "projections", "rebuild")
    assert neither.returncode == 2 and "--all" in neither.stdout
    both = run(data_dir, "projections", "rebuild", "ledger", "--all")
    assert both.returncode == 2
    first = run(data_dir, "projections", "rebuild", "search")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "g000001" in first.stdout and "g000002" in first.stdout
    assert (data_dir / "search" / "CURRENT").read_text() == "g000002"
    second = run(data_dir, "projections", "rebuild", "search")
    assert second.returncode == 0 and "g000003" in second.stdout
    # The generation before the live one stays for readers still finishing; older ones go.
    kept = sorted(p.name for p in (data_dir / "search").iterdir() if p.is_dir())
    assert kept == ["g000002", "g000003"]


def test_the_relay_and_the_consumer_need_a_broker(tmp_path: Path) -> None:
    for args in (("relay",), ("consume", "notifications")):
        result = run(tmp_path, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "VELORA_KAFKA_BOOTSTRAP" in result.stdout + result.stderr


def test_reconcile_refuses_what_is_no_day_or_not_over_and_an_unknown_marketplace(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / ".velora"
    assert run(data_dir, "migrate").returncode == 0
    for bad in ("2026-13-01", "yesterday", "20261206"):
        result = run(data_dir, "reconcile", "--date", bad)
        assert result.returncode == 2, (bad, result.stdout, result.stderr)
        assert "not a date" in result.stdout and "YYYY-MM-DD" in result.stdout
    today = datetime.now(UTC).date()
    # Yesterday is over, but the day after it is not: its counterparts may still come.
    result = run(data_dir, "reconcile", "--date", str(today - timedelta(days=1)))
    assert result.returncode == 2
    assert "cannot be reconciled yet" in " ".join(result.stdout.split())
    past = str(today - timedelta(days=5))
    stranger = uuid4()
    result = run(data_dir, "reconcile", "--date", past, "--tenant", str(stranger))
    assert result.returncode == 2 and f"no marketplace {stranger}" in result.stdout
    assert run(data_dir, "reconcile", "--date", past, "--tenant", "nobody").returncode == 2
    assert run(data_dir, "reconcile").returncode == 2  # the day is required
    # A day that is over with nothing on either side: nothing to do, and that is no failure.
    empty = run(data_dir, "reconcile", "--date", past)
    assert empty.returncode == 0, empty.stdout + empty.stderr
    assert f"nothing to reconcile on {past}" in empty.stdout
