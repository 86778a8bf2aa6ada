"""Shared fixtures: real services (PostgreSQL, MariaDB) in fresh throwaway databases, and
containers built through the composition root exactly as `velora serve` builds them.

On a laptop without the services the tests that need them skip and say why; in CI
(VELORA_REQUIRE_SERVICES=1) a missing service fails the run instead."""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pymysql
import pytest
import redis

from api.bootstrap import Container, build
from api.settings import Settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuses a run in which two tests share a node id: pytest-xdist schedules by node id, so
    all but one of them would silently not run (pytest 9.2 gave every schemathesis test of an
    API operation the same id; 123 fuzz tests vanished from the parallel run)."""
    twice = sorted(nodeid for nodeid, n in Counter(i.nodeid for i in items).items() if n > 1)
    if twice:
        raise pytest.UsageError(f"tests share node ids, so some would not run: {twice[:5]}")


REQUIRE_SERVICES = os.environ.get("VELORA_REQUIRE_SERVICES") == "1"
PG_URL = os.environ.get("VELORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("VELORA_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
STRIPE_URL = os.environ.get("VELORA_TEST_STRIPE_URL", "http://127.0.0.1:8420")
REDIS_URL = os.environ.get("VELORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
S3_URL = os.environ.get("VELORA_TEST_S3_URL", "http://127.0.0.1:8430")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Every test client calls from one address and signs in far more often than a person would: the
# scenarios run with the limits an operator raises for a load test. tests/e2e/test_limits*.py
# try the real ones.
UNLIMITED = {
    "rate_sign_in_per_address": "100000/minute",
    "rate_sign_up_per_address": "100000/minute",
    "rate_guest_per_address": "100000/minute",
}


def _unavailable(service: str, error: Exception) -> None:
    message = f"{service} is not reachable ({error}); `make services` starts it"
    if REQUIRE_SERVICES:
        pytest.fail(f"VELORA_REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def pg_server() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as e:
        _unavailable("PostgreSQL", e)
    return PG_URL


@pytest.fixture(scope="session")
def redis_server() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as e:
        _unavailable("Redis", e)
    return REDIS_URL


@pytest.fixture(scope="session")
def mysql_server() -> str:
    parts = urlsplit(MYSQL_URL)
    try:
        pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            connect_timeout=3,
        ).close()
    except pymysql.MySQLError as e:
        _unavailable("MariaDB/MySQL", e)
    return MYSQL_URL


@pytest.fixture(scope="session")
def stripe_server() -> str:
    """localstripe (scripts/localstripe_server.py), the fake Stripe the official SDK talks to."""
    parts = urlsplit(STRIPE_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=3).close()
    except OSError as e:
        _unavailable("localstripe", e)
    return STRIPE_URL


@pytest.fixture(scope="session")
def s3_server() -> str:
    """moto's S3 server (scripts/services.sh), the S3 API the blob store is tested against."""
    parts = urlsplit(S3_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 80), timeout=3).close()
    except OSError as e:
        _unavailable("moto's S3 server", e)
    return S3_URL


def s3_settings(s3_server: str) -> dict[str, object]:
    """Settings for a fresh bucket of its own on the S3 server."""
    return {
        "s3_bucket": f"velora-t-{uuid.uuid4().hex[:12]}",
        "s3_endpoint_url": s3_server,
        "s3_access_key_id": "velora-test",
        "s3_secret_access_key": "velora-test-secret",
    }


@pytest.fixture(scope="session")
def new_pg_database(pg_server: str) -> Iterator[Callable[[], str]]:
    """Makes fresh PostgreSQL databases and drops them all at the end of the session."""
    made: list[str] = []

    def make() -> str:
        name = f"velora_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return with_database(pg_server, name)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def new_mysql_database(mysql_server: str) -> Iterator[Callable[[], str]]:
    """Makes fresh MariaDB databases and drops them all at the end of the session."""
    parts = urlsplit(mysql_server)
    made: list[str] = []

    def connect() -> pymysql.Connection:  # type: ignore[type-arg]
        return pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            autocommit=True,
        )

    def make() -> str:
        name = f"velora_t_{uuid.uuid4().hex[:12]}"
        with connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        made.append(name)
        return with_database(mysql_server, name)

    yield make
    with connect() as conn, conn.cursor() as cur:
        for name in made:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": data_dir, "secret_key": TEST_SECRET, **UNLIMITED}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def built(settings: Settings) -> Container:
    container = build(settings)
    container.migrate()
    return container


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Container]:
    """A migrated container on the embedded default (SQLite + SQLite)."""
    container = built(make_settings(tmp_path / "velora"))
    yield container
    container.close()


@pytest.fixture(scope="module")
def servers_container(
    tmp_path_factory: pytest.TempPathFactory,
    new_pg_database: Callable[[], str],
    new_mysql_database: Callable[[], str],
    s3_server: str,
) -> Iterator[Container]:
    """A migrated container on real servers (PostgreSQL event store, MariaDB read models, images
    in an S3 bucket)."""
    settings = make_settings(
        tmp_path_factory.mktemp("velora"),
        eventstore_url=new_pg_database(),
        read_db_url=new_mysql_database(),
        **s3_settings(s3_server),
    )
    container = built(settings)
    yield container
    container.close()
