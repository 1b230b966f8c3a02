"""A content path through a broader category: the only thing two products share is the
category one ``broader`` hop above each one's own (hand-made graphs)."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths.privacy import hop_exists
from recommend.paths.reasons import evidence_paths, evidence_types
from recommend.paths.sentences import render_path
from recommend.paths.user_reasons import own_products


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
    ev = Evidence("content", 0.4, ((g.index("product:A"), 1.0),))
    return [c for _, _, c in evidence_paths(g, "user:1", item, [ev],
                                            own_products(g, "user:1"), min_people=5)]


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
    assert text == ("You bought Item A today; Item A is in Face Creams; Face Creams is a kind of "
                    "Skin Care; Body Lotions is also a kind of Skin Care; Item B is in "
                    "Body Lotions")


def test_an_item_in_the_broader_category_itself_is_one_hop_shorter() -> None:
    [(_, kind, nodes, edges, _)] = content_paths(shop(), "product:D")
    assert kind == "content>broader_category"
    assert nodes == ("user:1", "product:A", "category:beauty/skin/face", "category:beauty/skin",
                     "product:D")
    assert edges[-1] == ("product:D", "in_category", "category:beauty/skin")


def test_no_longer_climb_and_a_direct_share_comes_first() -> None:
    g = shop()
    assert content_paths(g, "product:C") == []  # only Beauty, two hops above A's category
    g.add_edges("made_by", ["product:B"], ["brand:x"])  # now A and B share a brand
    [(_, kind, _, _, _)] = content_paths(g, "product:B")
    assert kind == "content>same_brand"


def test_evidence_types_list_the_broader_path_only_with_broader_edges() -> None:
    assert "content>broader_category" in evidence_types(shop(), ["content"])
    g = KnowledgeGraph()
    g.add_edges("in_category", ["product:A"], ["category:x"])
    assert "content>broader_category" not in evidence_types(g, ["content"])
