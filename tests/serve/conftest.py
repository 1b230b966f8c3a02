"""Fixtures: the small demo artifact served by a FastAPI TestClient with a fresh state."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")

from fastapi.testclient import TestClient

from recommend.serve.api import DEFAULT_QUERY, cached
from recommend.serve.app import ServeConfig, create_app
from recommend.serve.security import Access
from recommend.serve.served import Served
from recommend.serve.state import ServedState

KEY = "test-key-123"
HEADERS = {"X-API-Key": KEY}


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port and not listening (a connection to it is
    refused until it listens)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def ask_default(reader: Served, uid: int) -> tuple[str, int, list[str]]:
    """The default recommendations of ``uid`` through ``reader``'s cache levels
    (:func:`recommend.serve.api.cached`): how they were got (``X-Cache``), the log seq they
    hold (``X-Log-Seq``) and the items."""
    got = asyncio.run(cached(reader, DEFAULT_QUERY.key(uid), uid,
                             partial(DEFAULT_QUERY.body, reader, uid, None), DEFAULT_QUERY))
    return (got.headers["x-cache"], int(got.headers["x-log-seq"]),
            [r["item"] for r in json.loads(got.body)])


def free_port() -> int:
    """A loopback port that was free a moment ago (the socket that found it is closed)."""
    with loopback_socket() as sock:
        return sock.getsockname()[1]


@pytest.fixture
def start(small_demo_artifact: Path, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A function starting a client over the small demo artifact and ``tmp_path/state``;
    every client started is closed (its shutdown snapshot taken) at the end."""
    clients: list[TestClient] = []

    def run(state_dir: Path | None = None, artifact: Path | None = None,
            **options: object) -> TestClient:
        config = ServeConfig(**{"access": Access(KEY), "snapshot_every": 0, **options})
        state = ServedState(artifact or small_demo_artifact, state_dir or tmp_path / "state")
        client = TestClient(create_app(state, config))
        client.__enter__()
        clients.append(client)
        return client

    yield run
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def image_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A demo world with product pictures (60 users, 40 products, 80 posts) built with the
    vision stage (a tiny CLIP, 10 epochs) and the models stage: (dataset, artifact)."""
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage
    from recommend.stages import EnrichConfig, vision_stage

    root = tmp_path_factory.mktemp("image-demo")
    generate_demo_world(root / "data", DemoConfig(n_users=60, n_products=40, n_posts=80,
                                                  images=True), progress=False)
    build_artifact(root / "data", root / "art", progress=False, stages=[
        ("vision", vision_stage(EnrichConfig(clip_epochs=10), progress=False)),
        ("models", model_stage(HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return root / "data", root / "art"


@pytest.fixture
def client(start: Callable[..., TestClient]) -> TestClient:
    """A client with writes keyed by :data:`KEY` and open reads."""
    return start()
