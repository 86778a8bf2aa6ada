"""Velora started as a user deploys it, for the benchmarks that drive it over HTTP: `velora
migrate` (on servers), `velora admin create-superuser`, `velora serve` in a session of its own,
in a fresh data dir and, on servers, fresh PostgreSQL and MariaDB databases dropped afterwards.
And the CPU seconds each of those processes spent, read from /proc, so that a benchmark can say
what one unit of its work cost Velora, PostgreSQL and MariaDB."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

VELORA = str(Path(sys.executable).parent / "velora")
# Every account a benchmark makes, the superuser included, signs in with it.
PASSWORD = "bench password 123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_databases(pg_url: str, mysql_url: str) -> Iterator[dict[str, str]]:
    """Fresh PostgreSQL and MariaDB databases for one run, dropped afterwards."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    import pymysql

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    my = urlsplit(mysql_url)
    my_conn = pymysql.connect(
        host=my.hostname,
        port=my.port or 3306,
        user=my.username or "root",
        password=my.password or "",
        autocommit=True,
    )
    with my_conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield {
            "VELORA_EVENTSTORE_URL": urlunsplit(urlsplit(pg_url)._replace(path=f"/{name}")),
            "VELORA_READ_DB_URL": urlunsplit(my._replace(path=f"/{name}")),
            "VELORA_SECRET_KEY": secrets.token_urlsafe(48),
        }
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with my_conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        my_conn.close()


@dataclass
class Velora:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]


@contextlib.contextmanager
def started(extra_env: dict[str, str], serve_args: list[str], root_email: str) -> Iterator[Velora]:
    data_dir = tempfile.mkdtemp(prefix="velora-bench-")
    env = {
        **os.environ,
        **extra_env,
        "VELORA_DATA_DIR": data_dir,
        "VELORA_LOG_LEVEL": "WARNING",
        # Every simulated buyer signs in from this one address, as no real crowd would: the
        # per-address limits are raised as an operator would for a load test. The per-account
        # limit and the tenant's request budget stay as deployed.
        "VELORA_RATE_SIGN_IN_PER_ADDRESS": "1000000/minute",
        "VELORA_RATE_SIGN_UP_PER_ADDRESS": "1000000/minute",
        # The buyers sign in once and shop for as long as the run lasts (a --grow run, hours).
        "VELORA_TOKEN_TTL_S": "86400",
    }
    cwd = tempfile.mkdtemp(prefix="velora-bench-cwd-")  # no stray .env is read
    if "VELORA_EVENTSTORE_URL" in extra_env:
        subprocess.run([VELORA, "migrate"], env=env, cwd=cwd, check=True, capture_output=True)
    subprocess.run(
        [VELORA, "admin", "create-superuser", "--email", root_email, "--password", PASSWORD],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(Path(data_dir) / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [VELORA, "serve", "--port", str(port), *serve_args],
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"velora serve did not start; see {log.name}") from None
                time.sleep(0.2)
        yield Velora(url, process, env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(cwd, ignore_errors=True)


# -- CPU per process ------------------------------------------------------------------------------


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError):
                    children = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    todo += [int(c) for c in children]
    return pids


def _named(names: tuple[str, ...]) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() in names:
                    found.append(int(entry))
    return found


def cpu_snapshot(velora: Velora) -> dict[str, float]:
    """CPU seconds so far of each Velora process, of PostgreSQL and of MariaDB."""
    snap: dict[str, float] = {}
    for pid in _tree(velora.process.pid):
        with contextlib.suppress(OSError):
            snap[f"velora[{pid}]"] = _cpu_s(pid)
    for label, names in (("postgres", ("postgres",)), ("mariadb", ("mariadbd", "mysqld"))):
        total = 0.0
        for pid in _named(names):
            with contextlib.suppress(OSError):
                total += _cpu_s(pid)
        snap[label] = total
    snap["bench client"] = _cpu_s(os.getpid())
    return snap


def cpu_per_checkout(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    return {k: round((after[k] - before.get(k, 0.0)) / max(n, 1), 5) for k in after}
