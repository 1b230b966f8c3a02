"""Prometheus metrics of one app (its own registry, so two apps in a process never mix).

``shopgraph_requests_total{route,method,status}`` and ``shopgraph_request_seconds{route}``
(a histogram) per route template (``/v1/users/{user}/recommendations``, never the raw path,
so ids do not make series); ``shopgraph_feedback_applied_total{kind}``; the log's size
``shopgraph_log_bytes``; ``shopgraph_artifact_info{version}`` (the served folder and the last
applied log seq), and ``shopgraph_refusals``.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.metrics_core import Metric

    from recommend.serve.served import Served

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StateCollector(Collector):
    """Read at scrape time: the log size, refusals, feedback applied, artifact version."""

    def __init__(self, state: Served) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("shopgraph_log_bytes", "size of the write-ahead log",
                                value=self.state.log_bytes())
        yield GaugeMetricFamily("shopgraph_refusals", "not-interested pairs held",
                                value=self.state.refusals.total())
        applied = CounterMetricFamily("shopgraph_feedback_applied",
                                    "feedback events applied since start, per kind",
                                    labels=["kind"])
        for kind, n in sorted(self.state.applied.items()):
            applied.add_metric([kind], n)
        yield applied
        info = InfoMetricFamily("shopgraph_artifact", "the served artifact")
        info.add_metric([], {"version": self.state.version()})
        yield info


class Metrics:
    """The app's registry and its request metrics. Under ``--workers N`` (the environment
    names ``PROMETHEUS_MULTIPROC_DIR``) the request counts and latencies are kept in that
    folder's files and summed over every reader at each scrape, whichever reader answers it;
    the state's gauges are the answering reader's (the same log and model in each)."""

    def __init__(self, state: Served) -> None:
        self.registry = CollectorRegistry()
        self.shared = os.environ.get(MULTIPROC_ENV)
        own = None if self.shared else self.registry
        self.requests = Counter("shopgraph_requests", "HTTP requests",
                                ["route", "method", "status"], registry=own)
        self.latency = Histogram("shopgraph_request_seconds", "request latency",
                                 ["route"], buckets=BUCKETS, registry=own)
        self.registry.register(_StateCollector(state))

    def text(self) -> bytes:
        """The Prometheus text exposition."""
        if not self.shared:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.shared)
        return generate_latest(registry) + generate_latest(self.registry)


class MetricsMiddleware:
    """ASGI middleware timing each request under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(name, scope["method"], str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)
