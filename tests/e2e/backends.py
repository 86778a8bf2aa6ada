"""Where a scenario class runs: mix one of these in before the scenarios."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Container
from api.settings import Settings
from tests.e2e.client import Api

VELORA = str(Path(sys.executable).with_name("velora"))


class Served:
    """The API over `container`, with the projectors and scheduler running as `velora serve`
    runs them."""

    @pytest.fixture
    def api(self, container: Container) -> Iterator[Api]:
        with TestClient(create_app(container, run_projections=True)) as http:
            yield Api(http)


class Embedded(Served):
    """The embedded default: SQLite event store and read models, tantivy search."""

    @pytest.fixture
    def container(self, embedded: Container) -> Container:
        return embedded


class OnServers(Served):
    """PostgreSQL event store and MariaDB read models (shared by a module's tests)."""

    @pytest.fixture
    def container(self, servers_container: Container) -> Container:
        assert servers_container.log.backend == "postgres"
        assert servers_container.read_store.backend == "mysql"
        return servers_container


def cli_env(container: Container) -> dict[str, str]:
    """The environment an operator's shell would have for this deployment."""
    return settings_env(container.settings)


def settings_env(s: Settings) -> dict[str, str]:
    """The environment an operator's shell would have for a deployment with these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VELORA_")}
    env["VELORA_DATA_DIR"] = str(s.data_dir)
    if s.eventstore_url:
        env["VELORA_EVENTSTORE_URL"] = s.eventstore_url
    if s.read_db_url:
        env["VELORA_READ_DB_URL"] = s.read_db_url
    if s.kafka_bootstrap:
        env["VELORA_KAFKA_BOOTSTRAP"] = s.kafka_bootstrap
        env["VELORA_KAFKA_TOPIC_PREFIX"] = s.kafka_topic_prefix
        env["VELORA_KAFKA_PARTITIONS"] = str(s.kafka_partitions)
    if s.secret_key:
        env["VELORA_SECRET_KEY"] = s.secret_key.get_secret_value()
    if s.s3_bucket:
        env["VELORA_S3_BUCKET"] = s.s3_bucket
        env["VELORA_S3_ENDPOINT_URL"] = s.s3_endpoint_url or ""
        env["VELORA_S3_ACCESS_KEY_ID"] = s.s3_access_key_id or ""
        secret = s.s3_secret_access_key
        env["VELORA_S3_SECRET_ACCESS_KEY"] = secret.get_secret_value() if secret else ""
    return env
