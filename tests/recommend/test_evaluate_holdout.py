"""shopgraph evaluate's core: a leak-free test hold-out, the default fit, every ranker scored."""

from __future__ import annotations

import json

import pytest

from kg.artifact import build_artifact, load_artifact
from kg.demo import DemoConfig, generate_demo_world
from recommend.evaluate.holdout import evaluate_graph
from recommend.hybrid.config import ContentConfig, HybridConfig


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    generate_demo_world(root / "data", DemoConfig(n_users=120, n_products=80, n_posts=300,
                                                  images=False), progress=False)
    build_artifact(root / "data", root / "art", progress=False, stages=[])
    return load_artifact(root / "art").graph


def test_every_ranker_is_scored_on_the_same_hold_out(graph) -> None:
    result = evaluate_graph(graph, HybridConfig(content=ContentConfig(encoder="lsa", lsa_dim=16)),
                            mode="random", audit_users=5)
    assert result.split["mode"] == "random" and result.users > 0
    assert result.split["held_pairs"] >= result.users
    assert {"hybrid", "cf alone", "popularity alone", "popularity baseline",
            "item-kNN baseline"} <= set(result.rows)
    for row in result.rows.values():
        assert set(row) == {"NDCG@10", "R@10", "HR@10"}
        assert all(0.0 <= v <= 1.0 for v in row.values())
    # the popularity component and the popularity baseline rank the same way
    assert result.rows["popularity alone"]["NDCG@10"] == pytest.approx(
        result.rows["popularity baseline"]["NDCG@10"], abs=0.02)
    assert 0.0 <= result.explained <= 1.0 and result.audited_users == 5
    assert "hybrid" in result.table()
    # each row's per-user NDCG, over the test users in order, averages to the row's figure
    assert len(result.test_users) == result.users and set(result.per_user) == set(result.rows)
    for name, values in result.per_user.items():
        assert values.shape == (result.users,)
        assert float(values.mean()) == result.rows[name]["NDCG@10"]
    as_json = result.to_json()
    assert "per_user" not in as_json and "test_users" not in as_json
    json.dumps(as_json)  # plain values only


def test_auto_holds_out_by_time_when_the_times_allow_it(graph) -> None:
    result = evaluate_graph(graph, HybridConfig(components=("cf", "popularity"),
                                                content=ContentConfig(encoder="none")),
                            mode="auto", audit_users=1)
    assert result.split["mode"] == "time" and result.split["requested"] == "time"
