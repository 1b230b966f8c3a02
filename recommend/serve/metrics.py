"""Prometheus metrics of one app (its own registry, so two apps in a process never mix).

``shopgraph_requests_total{route,method,status}`` and ``shopgraph_request_seconds{route}``
(a histogram) per route template (``/v1/users/{user}/recommendations``, never the raw path,
so ids do not make series); ``shopgraph_feedback_applied_total{kind}``; the log's size
``shopgraph_log_bytes``; ``shopgraph_artifact_info{version}`` (the served folder and the last
applied log seq), and ``shopgraph_refusals``. The response cache
(:mod:`recommend.serve.cache`): ``shopgraph_cache_lookups_total{route,result}`` (``hit``,
``miss`` or ``off``, from each response's ``X-Cache``), ``shopgraph_cache_hit_ratio{route}``
(hits over hits and misses, from those counts), ``shopgraph_cache_entries`` and
``shopgraph_cache_seconds`` (the answering process's).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

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
        cache = self.state.cache
        yield GaugeMetricFamily("shopgraph_cache_entries", "responses kept by this process",
                                value=len(cache))
        yield GaugeMetricFamily("shopgraph_cache_seconds",
                                "how long a kept response may be sent (0: cache off)",
                                value=cache.seconds)


class _HitRatio(Collector):
    """``shopgraph_cache_hit_ratio{route}``: hits / (hits + misses) of the lookups that
    ``source`` (a registry, or the readers' summed files) counted."""

    def __init__(self, source: Collector) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        counts: dict[str, dict[str, float]] = {}
        for metric in self.source.collect():
            if metric.name != "shopgraph_cache_lookups":
                continue
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    route = counts.setdefault(sample.labels["route"], {})
                    result = sample.labels["result"]
                    route[result] = route.get(result, 0.0) + sample.value
        ratio = GaugeMetricFamily("shopgraph_cache_hit_ratio",
                                  "cache hits over hits and misses, per route",
                                  labels=["route"])
        for route, seen in sorted(counts.items()):
            looked = seen.get("hit", 0.0) + seen.get("miss", 0.0)
            if looked:
                ratio.add_metric([route], seen.get("hit", 0.0) / looked)
        yield ratio


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
        self.cache = Counter("shopgraph_cache_lookups", "responses by X-Cache (hit, miss, off)",
                             ["route", "result"], registry=own)
        self.registry.register(_StateCollector(state))
        # each labelled child made once (prometheus_client's labels() validates and locks)
        self._timed: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._looked: dict[tuple[str, str], Any] = {}

    def record(self, route: str, method: str, status: int, seconds: float,
               cache: str | None) -> None:
        """One answered request: counted and timed under its ``route`` template, and its
        ``X-Cache`` (``cache``; None when the answer had none) counted."""
        key = (route, method, str(status))
        timed = self._timed.get(key)
        if timed is None:
            timed = self._timed[key] = (self.requests.labels(*key), self.latency.labels(route))
        timed[0].inc()
        timed[1].observe(seconds)
        if cache is not None:
            looked = self._looked.get((route, cache))
            if looked is None:
                looked = self._looked[(route, cache)] = self.cache.labels(route, cache)
            looked.inc()

    def text(self) -> bytes:
        """The Prometheus text exposition."""
        ratio = CollectorRegistry()
        if not self.shared:
            ratio.register(_HitRatio(self.registry))
            return generate_latest(self.registry) + generate_latest(ratio)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.shared)
        ratio.register(_HitRatio(registry))
        return generate_latest(registry) + generate_latest(self.registry) + \
            generate_latest(ratio)


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
        cache: bytes | None = None

        async def sending(message: Message) -> None:
            nonlocal status, cache
            if message["type"] == "http.response.start":
                status = message["status"]
                cache = next((v for k, v in message.get("headers", ()) if k == b"x-cache"),
                             None)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")  # its template without convertors ({item:path})
            name = getattr(route, "path_format", None) or "unmatched"
            self.metrics.record(name, scope["method"], status, time.perf_counter() - start,
                                None if cache is None else cache.decode("latin-1"))
