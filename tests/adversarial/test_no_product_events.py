"""A catalogue without product events, for a user whose posts name no product: nothing can
be ranked, and the notice says why (no events; none of the user's posts names a product;
the build read no post text with --no-nlp), not only "no product passes the filters". A user
whose posts name products still gets recommendations from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.graph import KnowledgeGraph
from recommend.nothing import why_nothing
from scripts.cli import main

T0 = 1_700_000_000


def _shop(*, mentions: bool, event: bool) -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Mug {p}")
    g.add_node("user:1")
    g.add_node("post:q", text="my red mug")
    g.add_edges("authored", ["user:1"], ["post:q"])
    if mentions:
        g.add_edges("mentions", ["post:q"], ["product:A"])
    if event:
        g.add_edges("viewed", ["user:1"], ["product:B"])
    return g


def test_why_nothing_names_each_cause() -> None:
    said = why_nothing(_shop(mentions=False, event=False), "user:1", {"stages": {}})
    assert said is not None and said.startswith("no product has an event yet")
    assert "no post user:1 wrote, liked, commented on or shared (1 in all) names a product" \
        in said and "--no-nlp" in said
    read = why_nothing(_shop(mentions=False, event=False), "user:1", {"stages": {"nlp": {}}})
    assert read is not None and "--no-nlp" not in read
    unknown = why_nothing(_shop(mentions=False, event=False), "user:9", {})
    assert unknown is not None and unknown.endswith("user:9 is not in the graph")
    assert why_nothing(_shop(mentions=True, event=False), "user:1", {}) is None
    assert why_nothing(_shop(mentions=False, event=True), "user:1", {}) is None
    assert why_nothing(KnowledgeGraph(), "user:1", {}) == (
        "the catalogue holds no product (no accepted line of products.jsonl)")


def test_a_dataset_of_empty_files_builds_with_a_notice(tmp_path: Path, capsys) -> None:
    for name in ("products.jsonl", "users.jsonl", "events.jsonl"):
        (tmp_path / name).write_text("\n")
    assert main(["--no-progress", "build", str(tmp_path), "--out", str(tmp_path / "art"),
                 "--graph-only"]) == 0
    assert "every dataset file is empty: the artifact holds no record" in capsys.readouterr().err


@pytest.fixture(scope="module")
def no_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Products, users and their posts (one tagged), no event at all, built without nlp."""
    from kg.artifact import build_artifact
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage

    root = tmp_path_factory.mktemp("no-events")
    rows = {"products.jsonl": [{"id": f"p{i}", "title": f"red mug {i}", "brand": f"B{i % 3}",
                                "categories": ["home", f"c{i % 3}"]} for i in range(12)],
            "users.jsonl": [{"id": f"u{j}"} for j in range(6)],
            "posts.jsonl": [{"id": f"s{j}", "author": f"u{j}", "text": f"my red mug {j}",
                             "ts": T0 + j, **({"products": ["p1"]} if j == 0 else {})}
                            for j in range(6)]}
    for name, lines in rows.items():
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    build_artifact(root, root / "art", progress=False, stages=[("models", model_stage(
        HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return root / "art"


def test_the_notice_says_why_nothing_is_recommended(no_events: Path, capsys) -> None:
    assert main(["recommend", str(no_events), "--user", "u3", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == []
    assert "nothing to recommend to user:u3: no product has an event yet" in out.err
    assert "--no-nlp" in out.err


def test_a_user_whose_post_names_a_product_gets_recommendations(no_events: Path,
                                                                capsys) -> None:
    assert main(["recommend", str(no_events), "--user", "u0", "-k", "3", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 3 and all(r["reason"].startswith("cold start") for r in found)
    assert all(p["text"].startswith("You wrote a post about red mug 1")
               for r in found for p in r["paths"])
