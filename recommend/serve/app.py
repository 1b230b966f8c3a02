"""The FastAPI app: the ``/v1`` API, health, metrics, the storefront, and their lifecycle.

:func:`create_app` wires a served state (:class:`recommend.serve.served.Served`: the writer's
:class:`~recommend.serve.state.ServedState` or a reader's
:class:`~recommend.serve.reader.ReaderState`, already loaded and replayed) into routes and
middleware: body-size limit (413), per-route metrics, optional CORS, and the hot read
(:mod:`recommend.serve.hot`: a kept recommendation list sent without the router). While the
app runs, a thread snapshots the state every ``snapshot_every`` seconds when it changed
(:class:`~recommend.serve.served.PeriodicSnapshots`, as the ``--workers N`` writer's); at
shutdown it snapshots once more (the writer) and closes it. OpenAPI is at ``/docs``.
No SPARQL endpoint is exposed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware

from kg.version import shopgraph_version
from recommend.serve.api import api_router
from recommend.serve.cache import DEFAULT_ENTRIES, DEFAULT_SECONDS
from recommend.serve.hot import HotRecommendations, route_of
from recommend.serve.idempotency import KEY_HEADER
from recommend.serve.look_api import LOOK_PATH, look_router
from recommend.serve.marketer_api import marketer_router
from recommend.serve.metrics import Metrics, MetricsMiddleware
from recommend.serve.security import Access, BodyLimit, HeadAsGet
from recommend.serve.served import PeriodicSnapshots, Served
from recommend.serve.stale import DEFAULT_BOUND


@dataclass(frozen=True)
class ServeConfig:
    """How the app behaves: access, limits, snapshots, the storefront."""

    access: Access = field(default_factory=Access)
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1 << 20
    max_image_bytes: int = 8 << 20  # POST /v1/look
    snapshot_every: float = 300.0  # seconds; 0: only at shutdown
    images_dir: Path | None = None
    storefront: bool = True
    threads: int | None = None  # threads answering sync routes (None: anyio's default, 40)
    # the response cache of each process answering reads (recommend.serve.cache; the state
    # holds it: these are what the --workers N readers are told to make theirs with)
    cache_seconds: float = DEFAULT_SECONDS
    cache_entries: int = DEFAULT_ENTRIES
    #: with --workers N, how long after a user's write their kept list may still be sent with
    #: the write's direct effect applied while the fresh one is computed (recommend.serve.stale;
    #: from 0, off, to under 1 s)
    stale_seconds: float = DEFAULT_BOUND
    #: with --workers N, the readers' nice value once warm (0: as the compute process's). The
    #: compute process (nice 0) must compute each written user's list again before their next
    #: request, but at the readers' priority, on cores the 32 closed-loop clients keep busy
    #: with hits, it got too small a share and fell behind, so that request waited for it.
    #: bench/serve_load.py on ML-100K, a loaded machine (load average 8-17): requests after
    #: the user's own write answered without waiting for a computation, readers at nice 0:
    #: 6-33% (10 runs), 5: 57% and 81%, 10: 75-95% (7 runs); the compute process at nice 5
    #: instead: 8%. On a host shared with other busy programs the readers give way to those
    #: too: there their hits were slower (p99 338-533 ms against 139-389 at nice 0).
    reader_nice: int = 10


def create_app(state: Served, config: ServeConfig | None = None) -> FastAPI:
    """The app serving ``state`` (module doc)."""
    config = config or ServeConfig()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if config.threads is not None:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = config.threads
        snapshots = PeriodicSnapshots(state, config.snapshot_every)
        try:
            yield
        finally:
            await asyncio.to_thread(snapshots.stop)
            await asyncio.to_thread(state.close)

    # FastAPI's OpenTelemetry off: it looked up its providers on every request (metrics
    # are Prometheus's, recommend.serve.metrics)
    app = FastAPI(title="shopgraph", version=shopgraph_version(), lifespan=lifespan,
                  description="Explained recommendations over a knowledge-graph artifact.",
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.state.served = state
    metrics = Metrics(state)
    app.include_router(marketer_router(state, config.access))  # before /v1/items/{item:path}
    app.include_router(api_router(state, config.access, config.images_dir))
    app.include_router(look_router(state, config.access, config.max_image_bytes,
                                   config.images_dir))

    @app.get("/v1/health", tags=["ops"])
    def health() -> dict[str, Any]:
        """Liveness and what is served."""
        graph = state.rec.graph
        return {"status": "ok", "worker": state.worker, "artifact": state.version(),
                "log_seq": state.applied_seq,
                "snapshot_seq": state.snapshot_seq, "users": graph.num_nodes("user"),
                "products": graph.num_nodes("product")}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus text: requests and latency per route, feedback, log size, version."""
        return Response(metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    if config.storefront and not config.access.keyed_reads:
        from recommend.serve.storefront import mount_storefront

        mount_storefront(app, state, config.images_dir)
    # innermost: a kept list skips the router, inside CORS, metrics and the body limit
    app.add_middleware(HotRecommendations, state=state, access=config.access,
                       route=route_of(app.routes))
    if config.cors_origins:  # a shop's page may send its writes' Idempotency-Key, and read
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "HEAD", "POST"],
                           allow_headers=["Content-Type", "X-API-Key", KEY_HEADER],
                           expose_headers=["Idempotent-Replayed", "X-Cache", "X-Log-Seq",
                                           "Age", "Retry-After"])
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes,
                       per_path={LOOK_PATH: config.max_image_bytes})
    app.add_middleware(HeadAsGet)  # outermost: every layer sees a GET
    return app
