"""A content path through a broader category: the only thing two products share is a
category they reach over ``broader`` edges (hand-made graphs)."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths.privacy import hop_exists
from recommend.paths.quality import shared_entity
from recommend.paths.reasons import evidence_paths, evidence_types
from recommend.paths.sentences import render_path
from recommend.paths.user_reasons import own_products
from tests.recommend.evidence_shop import content_paths as shop_content_paths


def shop() -> KnowledgeGraph:
    """user:1 bought A (Face Creams); B is a Body Lotion, C a Hair Shampoo, D is in Skin Care
    itself; Face Creams and Body Lotions are kinds of Skin Care, Skin Care and Hair are kinds
    of Beauty; no brand or category is shared directly."""
    g = KnowledgeGraph()
    for p in "ABCD":
        g.add_node(f"product:{p}", title=f"Item {p}")
    for c, name in (("beauty", "Beauty"), ("beauty/skin", "Skin Care"),
                    ("beauty/skin/face", "Face Creams"), ("beauty/skin/body", "Body Lotions"),
                    ("beauty/hair", "Hair")):
        g.add_node(f"category:{c}", name=name)
    g.add_edges("broader", ["category:beauty/skin/face", "category:beauty/skin/body",
                            "category:beauty/skin", "category:beauty/hair"],
                ["category:beauty/skin", "category:beauty/skin", "category:beauty",
                 "category:beauty"])
    g.add_edges("in_category", ["product:A", "product:B", "product:C", "product:D"],
                ["category:beauty/skin/face", "category:beauty/skin/body",
                 "category:beauty/hair", "category:beauty/skin"])
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:x", "brand:y"])
    g.add_edges("purchased", ["user:1"], ["product:A"], ts=[10.0])
    return g


def content_paths(g: KnowledgeGraph, item: str) -> list:
    return shop_content_paths(g, item, share=0.4)


def test_the_shared_broader_category_is_a_path_of_stored_edges() -> None:
    g = shop()
    [(fraction, kind, nodes, edges, _)] = content_paths(g, "product:B")
    assert (fraction, kind) == (1.0, "content>broader_category")
    assert nodes == ("user:1", "product:A", "category:beauty/skin/face", "category:beauty/skin",
                     "category:beauty/skin/body", "product:B")
    assert edges == (("user:1", "purchased", "product:A"),
                     ("product:A", "in_category", "category:beauty/skin/face"),
                     ("category:beauty/skin/face", "broader", "category:beauty/skin"),
                     ("category:beauty/skin/body", "broader", "category:beauty/skin"),
                     ("product:B", "in_category", "category:beauty/skin/body"))
    assert all(hop_exists(g, e) for e in edges)
    text = render_path(g, nodes, edges)
    assert text == ("You bought Item A today; Item A is in Face Creams and Item B in Body "
                    "Lotions, both kinds of Skin Care")
    assert shared_entity(nodes, edges) == "category:beauty/skin"


def test_an_item_in_the_broader_category_itself_is_one_hop_shorter() -> None:
    g = shop()
    [(_, kind, nodes, edges, _)] = content_paths(g, "product:D")
    assert kind == "content>broader_category"
    assert nodes == ("user:1", "product:A", "category:beauty/skin/face", "category:beauty/skin",
                     "product:D")
    assert edges[-1] == ("product:D", "in_category", "category:beauty/skin")
    assert shared_entity(nodes, edges) == "category:beauty/skin"
    assert render_path(g, nodes, edges) == ("You bought Item A today; Item A is in Face Creams, "
                                            "a kind of Skin Care, and Item D is in Skin Care")


def test_the_climb_reaches_the_nearest_common_category_however_far_up() -> None:
    g = shop()
    [(_, kind, nodes, edges, _)] = content_paths(g, "product:C")  # only Beauty is shared
    assert kind == "content>broader_category"
    assert nodes == ("user:1", "product:A", "category:beauty/skin/face", "category:beauty/skin",
                     "category:beauty", "category:beauty/hair", "product:C")
    assert edges[2:5] == (("category:beauty/skin/face", "broader", "category:beauty/skin"),
                          ("category:beauty/skin", "broader", "category:beauty"),
                          ("category:beauty/hair", "broader", "category:beauty"))
    assert all(hop_exists(g, e) for e in edges)
    assert shared_entity(nodes, edges) == "category:beauty"
    assert render_path(g, nodes, edges) == ("You bought Item A today; Item A is in Face Creams "
                                            "and Item C in Hair, both kinds of Beauty")
    g.add_node("category:garden", name="Garden")  # a tree of its own: nothing in common
    g.add_edges("in_category", ["product:E"], ["category:garden"])
    assert content_paths(g, "product:E") == []


def test_the_item_side_may_climb_and_the_nearest_ancestor_wins() -> None:
    g = shop()
    g.add_node("category:beauty/skin/body/hands", name="Hand Creams")
    g.add_edges("broader", ["category:beauty/skin/body/hands"], ["category:beauty/skin/body"])
    g.add_node("product:E", title="Item E")
    g.add_edges("in_category", ["product:E"], ["category:beauty/skin/body/hands"])
    [(_, _, nodes, edges, _)] = content_paths(g, "product:E")
    assert nodes[2:] == ("category:beauty/skin/face", "category:beauty/skin",
                         "category:beauty/skin/body", "category:beauty/skin/body/hands",
                         "product:E")  # Skin Care, not Beauty above it
    assert edges[-3:] == (("category:beauty/skin/body", "broader", "category:beauty/skin"),
                          ("category:beauty/skin/body/hands", "broader",
                           "category:beauty/skin/body"),
                          ("product:E", "in_category", "category:beauty/skin/body/hands"))
    assert render_path(g, nodes, edges).endswith(
        "Item A is in Face Creams and Item E in Hand Creams, both kinds of Skin Care")


def test_the_user_side_in_the_shared_category_itself() -> None:
    g = shop()
    g.add_edges("purchased", ["user:2"], ["product:D"], ts=[10.0])
    ev = Evidence("content", 0.4, ((g.index("product:D"), 1.0),))
    [(_, _, c)] = evidence_paths(g, "user:2", "product:B", [ev], own_products(g, "user:2"),
                                    min_people=5)
    _, kind, nodes, edges, _ = c
    assert kind == "content>broader_category"
    assert render_path(g, nodes, edges) == ("You bought Item D today; Item D is in Skin Care "
                                            "and Item B is in Body Lotions, a kind of Skin Care")


def test_a_direct_share_comes_first() -> None:
    g = shop()
    g.add_edges("made_by", ["product:B"], ["brand:x"])  # now A and B share a brand
    [(_, kind, _, _, _)] = content_paths(g, "product:B")
    assert kind == "content>same_brand"


def test_evidence_types_list_the_broader_path_only_with_broader_edges() -> None:
    assert "content>broader_category" in evidence_types(shop(), ["content"])
    g = KnowledgeGraph()
    g.add_edges("in_category", ["product:A"], ["category:x"])
    assert "content>broader_category" not in evidence_types(g, ["content"])


@pytest.mark.parametrize("seed", range(10))
def test_stored_link_finds_what_has_edge_finds_each_way(seed: int) -> None:
    """stored_link reads the products x products matrix: an edge of any weight (0 too) is
    found, a's way first, as has_edge finds it; a pair with none, or a node not in the
    graph, has none."""
    import numpy as np

    from recommend.paths.alike import stored_link

    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    ids = [f"product:{j}" for j in range(12)]
    for p in ids:
        g.add_node(p, title=p)
    src, dst = rng.integers(0, 12, 30), rng.integers(0, 12, 30)
    g.add_edges("described_like", [ids[x] for x in src], [ids[y] for y in dst],
                weight=rng.choice([0.0, 0.5, 1.0], 30).tolist())
    for a in ids:
        for b in ids:
            want = next(((s, "described_like", d) for s, d in ((a, b), (b, a))
                         if g.has_edge(s, "described_like", d)), None)
            assert stored_link(g, "described_like", a, b) == want
    assert stored_link(g, "described_like", ids[0], "product:absent") is None
