"""The deployment files, checked without a Docker engine (none runs here): docker-compose.yml
runs the whole stack, with healthchecks and start order, every command is one the CLI accepts,
every VELORA_* variable is a setting Velora reads and together they make a valid production
configuration, the image runs as an unprivileged user, and Prometheus and Grafana watch every
process with a dashboard of what Velora really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer.main
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import app
from api.settings import Settings
from tests.conftest import built, make_settings

ROOT = Path(__file__).resolve().parents[2]
VELORA_SERVICES = {"migrate", "api", "projector", "relay", "scheduler", "webhooks", "notifications"}
BACKING = {
    "postgres": "postgres:16",
    "mysql": "mysql:8",
    "opensearch": "opensearchproject/opensearch:2",
    "kafka": "apache/kafka:",
    "redis": "redis:7",
    "minio": "minio/minio:",
    "prometheus": "prom/prometheus:",
    "grafana": "grafana/grafana:",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def substituted(value: str) -> str:
    """A value as compose would make it, with every required variable set to a sample."""
    return re.sub(
        r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: f"sample-{m.group(1).lower()}-" + "x" * 32, value
    )


def test_the_stack_has_every_service(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == VELORA_SERVICES | set(BACKING)
    for name, image in BACKING.items():
        assert services[name]["image"].startswith(image), (name, services[name]["image"])
    for name in VELORA_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == "velora:latest"
    kafka = services["kafka"]["environment"]
    assert set(kafka["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}  # KRaft
    assert "ZOOKEEPER" not in " ".join(kafka)
    assert services["opensearch"]["environment"]["discovery.type"] == "single-node"


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck", {}).get("test")
        assert check and check[0] in {"CMD", "CMD-SHELL"}, name
    api = compose["services"]["api"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    for name in VELORA_SERVICES - {"migrate", "api"}:
        service = compose["services"][name]
        port = service["command"][service["command"].index("--metrics-port") + 1]
        assert f"127.0.0.1:{port}/metrics" in " ".join(service["healthcheck"]["test"]), name


def test_services_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def waits_for(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in services[name].get("depends_on", {}).items()}

    assert waits_for("migrate") == {"postgres": "service_healthy", "mysql": "service_healthy"}
    for name in VELORA_SERVICES - {"migrate"}:
        assert waits_for(name)["migrate"] == "service_completed_successfully", name
    for name in ("api", "relay", "notifications"):
        assert waits_for(name)["kafka"] == "service_healthy", name
    assert waits_for("api")["opensearch"] == "service_healthy"
    assert waits_for("api")["redis"] == "service_healthy"  # the shared rate-limit counters
    assert waits_for("api")["minio"] == "service_healthy"  # where product images are kept


def test_every_command_is_one_the_cli_accepts(compose: dict[str, Any]) -> None:
    cli = typer.main.get_command(app)
    for name in VELORA_SERVICES:
        argv = compose["services"][name]["command"]
        assert argv[0] == "velora", name
        command: Any = cli
        words = list(argv[1:])
        while hasattr(command, "get_command"):  # a group: the next word names its command
            word, words = words[0], words[1:]
            command = command.get_command(command.context_class(command), word)
        assert command is not None, (name, argv)
        # Parses the options as the CLI would: an unknown one or a bad value raises.
        ctx = command.make_context(argv[0], words)
        assert not ctx.args, (name, ctx.args)
    api = compose["services"]["api"]["command"]
    assert "--no-background" in api  # the projector and scheduler services do that work
    migrate = compose["services"]["migrate"]["command"]
    assert "--wait-s" in migrate


def test_the_environment_is_a_valid_production_configuration(compose: dict[str, Any]) -> None:
    fields = {f"VELORA_{name.upper()}" for name in Settings.model_fields}
    services = compose["services"]
    environment = services["api"]["environment"]
    for name in VELORA_SERVICES:
        assert services[name]["environment"] == environment, name
    assert set(environment) <= fields, set(environment) - fields
    values = {
        k.removeprefix("VELORA_").lower(): substituted(str(v)) for k, v in environment.items()
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    assert not settings.embedded
    assert settings.signing_key()  # a long enough secret: it would start
    assert settings.webhook_secret()
    hosts = {
        urlsplit(settings.eventstore_url or "").hostname: 5432,
        urlsplit(settings.read_db_url or "").hostname: 3306,
        urlsplit(settings.opensearch_url or "").hostname: 9200,
    }
    assert hosts == {"postgres": 5432, "mysql": 3306, "opensearch": 9200}
    assert urlsplit(settings.eventstore_url or "").port == 5432
    assert urlsplit(settings.read_db_url or "").port == 3306
    assert urlsplit(settings.opensearch_url or "").port == 9200
    assert settings.kafka_bootstrap == "kafka:9092"
    assert services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].endswith("kafka:9092")
    # The databases' own credentials are the ones Velora's URLs carry.
    pg = services["postgres"]["environment"]
    assert urlsplit(settings.eventstore_url or "").username == pg["POSTGRES_USER"]
    assert urlsplit(settings.eventstore_url or "").path == f"/{pg['POSTGRES_DB']}"
    my = services["mysql"]["environment"]
    assert urlsplit(settings.read_db_url or "").username == my["MYSQL_USER"]
    assert urlsplit(settings.read_db_url or "").path == f"/{my['MYSQL_DATABASE']}"


def test_the_image_is_built_in_stages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", dockerfile, re.M | re.I)
    assert len(stages) >= 2
    final = dockerfile[dockerfile.rindex("\nFROM") :]
    users = re.findall(r"^USER\s+(\S+)", final, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "COPY --from=build" in final
    assert "pip install" not in final  # nothing is built in the image that runs
    for package in ("domain", "eventstore", "projections", "adapters", "api", "migrations"):
        assert f"COPY {package} {package}" in dockerfile


def test_the_event_store_archives_its_write_ahead_log_at_least_every_minute(
    compose: dict[str, Any],
) -> None:
    postgres = compose["services"]["postgres"]
    settings = dict(arg.split("=", 1) for arg in postgres["command"][1:] if arg != "-c")
    assert settings["wal_level"] == "replica" and settings["archive_mode"] == "on"
    assert int(settings["archive_timeout"]) <= 60  # the RPO the README states
    archive = settings["archive_command"]
    assert "/wal-archive/%f" in archive and archive.startswith("test ! -f")  # never overwrites
    assert any(v.endswith(":/wal-archive") for v in postgres["volumes"])
    assert "pgwal" in compose["volumes"]


def test_prometheus_scrapes_the_api_and_every_worker(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    services = compose["services"]
    expected = {"api:8000"} | {
        f"{name}:{services[name]['command'][services[name]['command'].index('--metrics-port') + 1]}"
        for name in VELORA_SERVICES - {"migrate", "api"}
    }
    assert targets == expected
    mounted = " ".join(services["prometheus"]["volumes"])
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml" in mounted


def test_the_grafana_dashboard_shows_only_metrics_velora_exports(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    """Every series the provisioned dashboard asks Prometheus for is one Velora's /metrics
    (API and workers alike) has: read from a running app's own exposition, not from a list."""
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "dashboards" / "velora.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b((?:velora|process)_[a-z_]+)\b", target["expr"])
    }
    assert len(asked) >= 10
    container = built(make_settings(tmp_path / "velora"))
    try:
        with TestClient(create_app(container, run_projections=True)) as http:
            exposition = http.get("/metrics").text
    finally:
        container.close()
    families = set(re.findall(r"^# TYPE (\w+) ", exposition, re.M))
    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    unknown = {
        n
        for n in asked
        if not any(n.removesuffix(s) in families for s in suffixes if n.endswith(s))
    }
    assert unknown == set(), sorted(families)
    grafana = compose["services"]["grafana"]
    mounted = " ".join(grafana["volumes"])
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards" in mounted
    provider = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "velora.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load(
        (
            ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
        ).read_text()
    )
    (prometheus,) = source["datasources"]
    assert prometheus["url"] == "http://prometheus:9090"
    assert {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]} == {
        prometheus["uid"]
    }
