"""``-k`` above the candidates the model ranks (each component's top N): the user gets k
products when the catalogue holds k new to them, and a shorter list's notice says how many
the catalogue holds, not that the rest fail filters nobody set."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from scripts.cli import main

T0 = 1_700_000_000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 products, 40 users with 6 purchases each, candidate quotas of 10 per component."""
    from kg.artifact import build_artifact
    from recommend.hybrid.config import BlendConfig, ContentConfig, HybridConfig
    from recommend.model_stage import model_stage

    rng = random.Random(0)
    root = tmp_path_factory.mktemp("many")
    rows = {"products.jsonl": [{"id": f"p{i}", "title": f"red mug {i}", "brand": f"B{i % 5}",
                                "categories": ["home", f"c{i % 4}"]} for i in range(120)],
            "users.jsonl": [{"id": f"u{j}"} for j in range(40)],
            "events.jsonl": [{"user": f"u{j}", "target": f"p{i}", "kind": "purchase",
                              "ts": T0 + 60 * n} for j in range(40)
                             for n, i in enumerate(rng.sample(range(120), 6))]}
    for name, lines in rows.items():
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    config = HybridConfig(content=ContentConfig(encoder="lsa"),
                          blend=BlendConfig(candidates_per_component=10, candidate_sizes=(10,)))
    build_artifact(root, root / "art", progress=False,
                   stages=[("models", model_stage(config))])
    return root / "art"


def test_k_above_the_candidates_gets_k(shop: Path) -> None:
    from recommend.recommender import Recommender

    rec = Recommender.load(shop)
    top10 = [r.item for r in rec.recommend("u1", k=10, explain=False)]
    many = rec.recommend("u1", k=100, explain=False)
    assert len(many) == 100 and len({r.item for r in many}) == 100
    assert [r.item for r in many[:10]] == top10
    assert len(rec.recommend("u1", k=500, explain=False)) == 114  # 120 less the 6 bought


def test_a_short_list_says_how_many_the_catalogue_holds(shop: Path, capsys) -> None:
    assert main(["recommend", str(shop), "--user", "u1", "-k", "500", "--no-explain"]) == 0
    err = capsys.readouterr().err
    assert "114 product(s) of the 500 asked for: the catalogue holds 114 products new to the" \
        " user" in err and "filters" not in err
    from kg.artifact import load_artifact

    graph = load_artifact(shop).graph
    bought = sum(int(e.dst.removeprefix("product:p")) % 4 == 1
                 for e in graph.neighbors("user:u1", "purchased"))
    assert main(["recommend", str(shop), "--user", "u1", "-k", "50", "--category", "c1",
                 "--no-explain"]) == 0
    assert f"{30 - bought} product(s) of the 50 asked for: {30 - bought} products new to the " \
        "user pass the filters" in capsys.readouterr().err
