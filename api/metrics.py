"""Prometheus metrics. Each app (and each worker) has its own registry, so that several can live
in one process (the tests) without clashing. Lags are read from the stores at scrape time, so
/metrics on the API shows the projectors' and the relay's lag wherever those run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from api.operations import ProjectionHealth

log = logging.getLogger("velora.metrics")

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process's own: CPU seconds, memory, open files, start time; Python's GC and version.
        ProcessCollector(registry=self.registry)
        self.registry.register(GC_COLLECTOR)
        self.registry.register(PLATFORM_COLLECTOR)
        self.requests = Histogram(
            "velora_http_request_duration_seconds",
            "HTTP request latency, by route template, method and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.commands = Counter(
            "velora_commands",
            "Commands (POST, PUT, PATCH and DELETE requests) by route and result: ok, or why not",
            ["command", "result"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            "velora_webhooks",
            "Payment provider webhooks by provider and outcome",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.relayed = Counter(
            "velora_relay_messages",
            "Messages the relay published and the broker acknowledged, by relay",
            ["relay"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "velora_webhook_deliveries",
            "Attempts to deliver to the marketplaces' webhook endpoints, by what the delivery "
            "became: delivered, failing (to be retried) or dead",
            ["status"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "velora_consumer_events",
            "Events a consumer read, by consumer and outcome (applied, duplicates, ...)",
            ["consumer", "outcome"],
            registry=self.registry,
        )

    def page(self, request: Request) -> Response:
        """The Prometheus text exposition of everything this process counts."""
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def watch(self, name: str, collect: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        """Adds gauges read at scrape time (lags). A store that cannot be read leaves its
        gauges out of that scrape rather than failing it."""
        self.registry.register(_Gauges(name, collect))


class _Gauges(Collector):
    def __init__(self, name: str, collect: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        self.name = name
        self._collect = collect

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            return list(self._collect())
        except Exception as e:  # a store is down: /readyz says so; metrics must still answer
            log.warning("metrics: cannot read %s: %s", self.name, e)
            return []

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []  # read at scrape time only, never at registration


def lag_gauges(
    head: Callable[[], int],
    projector_positions: Callable[[], dict[str, int]],
    relay_positions: Callable[[], dict[str, int]],
) -> Callable[[], Iterable[GaugeMetricFamily]]:
    """The log's head, and how many events each projector and each relay is behind it."""

    def collect() -> Iterable[GaugeMetricFamily]:
        at = head()
        head_gauge = GaugeMetricFamily("velora_log_head", "The event log's newest position")
        head_gauge.add_metric([], at)
        projectors = GaugeMetricFamily(
            "velora_projector_lag_events",
            "Events recorded that the projector has not applied yet",
            labels=["projector"],
        )
        for name, position in sorted(projector_positions().items()):
            projectors.add_metric([name], max(at - position, 0))
        relays = GaugeMetricFamily(
            "velora_relay_lag_events",
            "Events recorded that the relay has not had acknowledged by the broker yet",
            labels=["relay"],
        )
        for name, position in sorted(relay_positions().items()):
            relays.add_metric([name], max(at - position, 0))
        return [head_gauge, projectors, relays]

    return collect


def projection_gauges(health: Callable[[], ProjectionHealth]) -> Callable[[], Iterable[Any]]:
    """Whether each projector is stopped, how many tenants each quarantines, and,
    where this process runs the projection thread, whether it is up and how often it was
    started again after failing."""

    def collect() -> Iterable[Any]:
        now = health()
        stopped = GaugeMetricFamily(
            "velora_projector_stopped",
            "1 while the projector is stopped on an event no tenant can be told of",
            labels=["projector"],
        )
        quarantined = GaugeMetricFamily(
            "velora_projector_quarantined_tenants",
            "Tenants whose events the projector passes over after failing to apply one",
            labels=["projector"],
        )
        for name, count in sorted(now.quarantined.items()):
            stopped.add_metric([name], 1 if name in now.stopped else 0)
            quarantined.add_metric([name], count)
        families: list[Any] = [stopped, quarantined]
        if now.running_here or now.failing is not None:
            up = GaugeMetricFamily(
                "velora_projectors_up", "1 while this process's projection thread runs well"
            )
            up.add_metric([], 0 if now.failing is not None else 1)
            restarts = CounterMetricFamily(
                "velora_projectors_restarts",
                "Times this process's projection thread was started again after failing",
            )
            restarts.add_metric([], now.restarts)
            families += [up, restarts]
        return families

    return collect
