"""Shared test settings: offline models, no hypothesis deadline, and the public datasets in
../shared/data."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

# no per-example time limit: hypothesis' default 200 ms deadline made a pure-function property
# test fail on a machine busy with a build (timings belong in bench/, not in tests)
settings.register_profile("shopgraph", deadline=None)
settings.load_profile("shopgraph")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

_DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SHARED_DATA = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", _DEFAULT_SHARED))


@pytest.fixture
def shared_dataset() -> Callable[[str], Path]:
    """A function giving a public dataset's folder in ../shared/data, or skipping the test.

    Use: ``def test_x(shared_dataset): folder = shared_dataset("ml-100k")``.
    """

    def locate(name: str) -> Path:
        folder = SHARED_DATA / name
        if not folder.is_dir():
            pytest.skip(f"public dataset {name!r} absent at {folder} (set SHOPGRAPH_SHARED_DATA)")
        return folder

    return locate


@pytest.fixture(scope="session")
def small_demo_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo world (120 users, 80 products, 300 posts, no images) built with the models
    stage (LSA content encoder): the artifact folder. Tests must not change it on disk."""
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage

    root = tmp_path_factory.mktemp("small-demo")
    generate_demo_world(root / "data", DemoConfig(n_users=120, n_products=80, n_posts=300,
                                                  images=False))
    build_artifact(root / "data", root / "art", progress=False, rdf_store=True,
                   stages=[("models", model_stage(
                       HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return root / "art"
