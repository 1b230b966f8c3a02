"""Explanations: real edges, exact shares of the score, faithful, readable, drawable."""

from __future__ import annotations

import collections
import itertools
import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from kg.build import build_graph
from kg.demo import DemoConfig, generate_demo_world
from kg.graph import KnowledgeGraph
from kg.reader import read_dataset
from recommend.paths import (
    GraphPathScorer,
    MetaPath,
    Step,
    connection_path,
    explain_paths_many,
    fidelity_check,
    iter_instances,
    metapath_matrix,
)
from recommend.paths.drawing import draw_paths
from recommend.paths.instances import top_instances
from recommend.paths.privacy import hop_exists

BOUGHT_COBOUGHT = MetaPath(
    "bought>also_bought", (Step("purchased", "out", "product"), Step("also_bought"))
)


def shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p, title in zip("ABC", ["Trail Mug", "Camp Kettle", "Clifton 9"], strict=True):
        g.add_node(f"product:{p}", title=title)
    g.add_node("user:1", name="Ann")
    g.add_node("user:mia", name="Mia", attributes={"handle": "mia"})
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("post:9", text="Loving my new runners")
    g.add_edges("purchased", ["user:1", "user:1"], ["product:A", "product:B"])
    g.add_edges("also_bought", ["product:A", "product:A", "product:B"],
                ["product:B", "product:C", "product:C"], weight=[1.0, 3.0, 1.0])
    g.add_edges("authored", ["user:mia"], ["post:9"])
    g.add_edges("liked", ["user:1"], ["post:9"])
    g.add_edges("mentions", ["post:9"], ["brand:hoka"])
    g.add_edges("made_by", ["product:C"], ["brand:hoka"])
    return g


def test_paths_carry_exact_shares_of_the_score():
    g = shop()
    paths = explain_paths_many(g, "user:1", ["product:C"], [BOUGHT_COBOUGHT], [1.0])[0]
    # via B: 1/2 * 1 ; via A: 1/2 * 3/4 -> shares 0.5/0.875 and 0.375/0.875
    assert [p.nodes for p in paths] == [("user:1", "product:B", "product:C"),
                                        ("user:1", "product:A", "product:C")]
    assert [p.contribution for p in paths] == pytest.approx([0.5 / 0.875, 0.375 / 0.875])
    assert paths[0].edges == (("user:1", "purchased", "product:B"),
                              ("product:B", "also_bought", "product:C"))
    assert paths[0].text == "You bought Camp Kettle; people who bought Camp Kettle also bought " \
                            "Clifton 9"


def test_post_brand_path_reads_as_a_sentence():
    g = shop()
    scorer = GraphPathScorer().prepare(g)
    texts = [p.text for p in scorer.explain("user:1", "product:C")]
    assert "You liked @mia's post about Hoka; Hoka makes Clifton 9" in texts


def test_lazy_enumeration_agrees_with_the_matrix_and_the_vectorised_top():
    g = shop()
    g.add_edges("purchased", ["user:2", "user:2"], ["product:A", "product:C"])
    mp = MetaPath("bought>peers", (Step("purchased", "out", "product"),
                                   Step("purchased", "in", "user"),
                                   Step("purchased", "out", "product")))
    steps = GraphPathScorer([mp]).prepare(g).steps_[mp.name]
    u, c = g.index("user:1"), g.index("product:C")
    lazy = list(iter_instances(steps, u, c))
    best, total = top_instances(steps, u, c, 5)
    assert sum(v for _, v in lazy) == pytest.approx(metapath_matrix(g, mp)[u, c])
    assert total == pytest.approx(metapath_matrix(g, mp)[u, c])
    assert sorted(lazy) == sorted(best)


def test_unscored_items_get_a_marked_connection_and_unreachable_ones_nothing():
    g = shop()
    g.add_node("product:D", title="Speedgoat 5")
    g.add_edges("made_by", ["product:D"], ["brand:hoka"])
    g.add_node("product:Z", title="Island Lamp")
    paths = explain_paths_many(g, "user:1", ["product:D"], [BOUGHT_COBOUGHT], [1.0])[0]
    assert len(paths) == 1 and paths[0].reason == "connection"
    assert paths[0].contribution == 0 and "not the reason" in paths[0].text
    assert paths[0].nodes[0] == "user:1" and paths[0].nodes[-1] == "product:D"
    assert len(paths[0].edges) <= 3 and all(hop_exists(g, e) for e in paths[0].edges)
    assert connection_path(g, "user:1", "product:Z") is None
    assert explain_paths_many(g, "user:1", ["product:Z"], [BOUGHT_COBOUGHT], [1.0])[0] == []


def test_fidelity_on_hand_computed_scores():
    g = shop()
    scorer = GraphPathScorer([BOUGHT_COBOUGHT]).prepare(g)
    top = scorer.explain("user:1", "product:C")[0]  # via Camp Kettle
    masked = fidelity_check(g, "user:1", "product:C", top, scorer)
    assert (masked.before, masked.after) == pytest.approx((0.875, 0.375))
    removed = fidelity_check(g, "user:1", "product:C", top, scorer, mode="remove")
    assert removed.after == pytest.approx(0.75)  # Ann's purchases renormalise to Trail Mug
    assert masked.dropped and removed.dropped


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo world, last purchase per user held out, with co-purchase + brand mentions."""
    folder = tmp_path_factory.mktemp("demo")
    generate_demo_world(folder, DemoConfig(n_users=120, n_products=80, n_posts=300,
                                           images=False))
    ds = read_dataset(folder).dataset
    buys = collections.defaultdict(list)
    for k, e in enumerate(ds.events):
        if e.kind == "purchase" and e.target_type == "product":
            buys[e.user].append((e.ts or 0.0, k))
    held = {max(v)[1] for v in buys.values() if len(v) >= 2}
    train = replace(ds, events=[e for k, e in enumerate(ds.events) if k not in held])
    g = build_graph(train, progress=False)
    baskets = collections.defaultdict(set)
    for e in train.events:
        if e.kind == "purchase" and e.target_type == "product":
            baskets[e.user].add(f"product:{e.target}")
    pairs = collections.Counter(
        p for items in baskets.values() for p in itertools.permutations(sorted(items), 2))
    g.add_edges("also_bought", [a for a, _ in pairs], [b for _, b in pairs],
                weight=list(pairs.values()))
    gold = [json.loads(line) for line in (folder / "gold_mentions.jsonl").open()]
    gold = [m for m in gold if m["target"].startswith("brand:") and g.has_node(m["target"])]
    g.add_edges("mentions", [f"post:{m['post']}" for m in gold], [m["target"] for m in gold])
    validation = {f"user:{ds.events[k].user}": {f"product:{ds.events[k].target}"}
                  for k in held}
    scorer = GraphPathScorer().fit(g, validation)
    top = scorer.top_n(np.arange(g.num_nodes("user")), 10)
    return g, scorer, top


def _recommended(g, top, n_users=None):
    for r, row in enumerate(top.items[:n_users]):
        for it in row[row >= 0]:
            yield g.node_id("user", int(top.users[r])), g.node_id("product", int(it))


def test_demo_recommendations_are_explained_by_real_edges(demo):
    g, scorer, top = demo
    recs = list(_recommended(g, top))
    assert len(recs) > 500
    explained = 0
    for user, item in recs:
        paths = scorer.explain(user, item)
        explained += bool(paths)
        assert len(paths) <= 3
        title = g.node_attrs(item)["title"]
        for p in paths:
            assert p.nodes[0] == user and p.nodes[-1] == item and p.hops <= 3
            assert all(hop_exists(g, e) for e in p.edges)
            for (src, _, dst), a, b in zip(p.edges, p.nodes[:-1], p.nodes[1:], strict=True):
                assert {src, dst} == {a, b}
            assert title in p.text
        shares = [p.contribution for p in paths if p.reason == "score"]
        assert all(0 < s <= 1 + 1e-9 for s in shares) and sum(shares) <= 1 + 1e-9
    assert explained / len(recs) >= 0.95


def test_demo_explanations_are_faithful(demo):
    g, scorer, top = demo
    masked = removed = n = 0
    for user, item in _recommended(g, top, n_users=25):
        path = scorer.explain(user, item)[0]
        if path.reason != "score":
            continue
        n += 1
        masked += fidelity_check(g, user, item, path, scorer).dropped
        removed += fidelity_check(g, user, item, path, scorer, mode="remove").dropped
    assert n > 100
    assert masked == n
    assert removed / n >= 0.9


def test_demo_parts_sum_to_the_graph_score(demo):
    g, scorer, top = demo
    user, item = next(_recommended(g, top))
    assert sum(scorer.parts(user, item).values()) == pytest.approx(top.scores[0, 0])


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_draw_paths_writes_a_picture(tmp_path, suffix):
    g = shop()
    scorer = GraphPathScorer().prepare(g)
    paths = scorer.explain("user:1", "product:C")
    out = draw_paths(paths, tmp_path / f"why.{suffix}", graph=g, title="Why Clifton 9")
    data = out.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        assert b"Clifton" in data or b"<path" in data
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        draw_paths(paths, tmp_path / "why.gif")


def test_segments_read_as_what_their_members_share() -> None:
    from kg.graph import KnowledgeGraph
    from recommend.paths import node_name

    g = KnowledgeGraph()
    g.add_node("category:sports/running", name="Running")
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("segment:cluster-3", size=40,
               top_features=["category:sports/running", "brand:hoka", "spending_power"])
    g.add_node("segment:cluster-4", size=3, top_features=["brand:hoka"])
    g.add_node("segment:cluster-5")
    g.add_node("segment:occupation-technician", name="occupation: technician",
               facet="occupation", value="technician")
    g.add_node("segment:custom", name="Weekend hikers")
    assert node_name(g, "segment:cluster-3") == (
        "the shoppers into Running and Hoka who spend more than most")
    # too few members to say what they share; nothing known
    assert node_name(g, "segment:cluster-4") == "the shoppers with habits like yours"
    assert node_name(g, "segment:cluster-5") == "the shoppers with habits like yours"
    assert node_name(g, "segment:occupation-technician") == (
        "the people whose occupation is technician")
    assert node_name(g, "segment:custom") == "Weekend hikers"


def test_nodes_without_names_read_without_their_ids() -> None:
    from kg.graph import KnowledgeGraph
    from recommend.paths import node_name

    g = KnowledgeGraph()
    for node in ("user:u0042", "product:B00X12", "post:s9", "brand:48213",
                 "category:beauty/skin-care"):
        g.add_node(node)
    assert [node_name(g, n) for n in g.nodes("user") + g.nodes("product") + g.nodes("post")
            + g.nodes("brand") + g.nodes("category")] == [
        "a shopper", "an item", "a post", "a brand", "skin care"]


def test_products_without_a_title_read_as_what_they_are() -> None:
    from recommend.paths import node_name

    g = KnowledgeGraph()
    asin = {"attributes": {"title_fallback": "asin"}}
    for p in ("A", "B", "C"):
        g.add_node(f"product:B00{p}", title=f"B00{p}", **asin)
    g.add_node("category:beauty", name="Beauty")
    g.add_node("category:beauty/makeup/eyes/mascara", name="Mascara")
    g.add_node("brand:maybelline", name="Maybelline")
    g.add_edges("in_category", ["product:B00A", "product:B00A", "product:B00B"],
                ["category:beauty", "category:beauty/makeup/eyes/mascara", "category:beauty"])
    g.add_edges("made_by", ["product:B00A"], ["brand:maybelline"])
    assert [node_name(g, f"product:B00{p}") for p in "ABC"] == [
        "a Mascara by Maybelline", "a Beauty product", "an item"]


def test_segment_paths_count_members_and_date_your_own_acts() -> None:
    from recommend.paths.sentences import render_path

    g = KnowledgeGraph()
    g.add_node("product:A", title="Trail Mug")
    g.add_node("product:B", title="Camp Kettle")
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("segment:cluster-0", size=6, top_features=["brand:hoka"])
    people_ = [f"user:{k}" for k in range(1, 8)]
    g.add_edges("member_of", people_[:6], ["segment:cluster-0"] * 6)
    g.add_edges("purchased", people_[1:6], ["product:B"] * 5)
    g.add_edges("purchased", ["user:1", "user:7"], ["product:A", "product:B"],
                ts=[1_000_000.0, 1_000_000.0 + 9 * 86_400])
    text = render_path(g, ("user:1", "segment:cluster-0", "product:B"),
                       (("user:1", "member_of", "segment:cluster-0"),
                        ("segment:cluster-0", "members_bought", "product:B")))
    assert text == "You are one of the shoppers into Hoka; 5 of them bought Camp Kettle"
    text = render_path(g, ("user:1", "product:A", "brand:hoka"),
                       (("user:1", "purchased", "product:A"), ("product:A", "made_by",
                                                                "brand:hoka")))
    assert text == "You bought Trail Mug last week; Hoka makes Trail Mug"
    assert render_path(g, ("user:1", "product:A"), (("user:1", "purchased", "product:A"),),
                       now=1_000_000.0 + 400 * 86_400) == "You bought Trail Mug last year"
