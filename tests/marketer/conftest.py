"""A demo world with profiles (segments, interests) and a social graph, built once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def market_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 users, 120 products, 600 posts; profiles stage and the models (LSA content); the
    audience's category weight fixed at 0.3 (its choice: test_audience_tune.py)."""
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import AudienceConfig, ContentConfig, HybridConfig
    from recommend.model_stage import model_stage
    from recommend.stages import enrichment_stages

    root = tmp_path_factory.mktemp("market")
    generate_demo_world(root / "data", DemoConfig(n_users=300, n_products=120, n_posts=600,
                                                  images=False))
    profiles = [s for s in enrichment_stages(progress=False) if s[0] == "profiles"]
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[*profiles, ("models", model_stage(HybridConfig(
                       content=ContentConfig(encoder="lsa"),
                       audience=AudienceConfig(category_weight=0.3, category_weights=()))))])
    return root / "art"
