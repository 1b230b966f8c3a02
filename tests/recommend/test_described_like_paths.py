"""Paths over stored content-neighbour edges (``described_like``): the content evidence path,
the meta-path, the connection, and what they show (hand-made graphs)."""

from __future__ import annotations

import numpy as np

from kg.graph import KnowledgeGraph
from recommend.paths.connection import connection_path
from recommend.paths.metapaths import (
    DEFAULT_METAPATHS,
    available_metapaths,
    catalogue,
    metapath_matrix,
)
from recommend.paths.privacy import hop_exists
from recommend.paths.reasons import evidence_types
from recommend.paths.sentences import render_path
from tests.recommend.evidence_shop import content_paths


def shop() -> KnowledgeGraph:
    """user:1 bought A; B's text is among A's nearest (A -> B), C counts A among its own
    (C -> A); D shares A's brand and is also near it; E has nothing to do with A. user:2
    bought E (another person's purchase must never show)."""
    g = KnowledgeGraph()
    for p in "ABCDE":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("made_by", ["product:A", "product:D"], ["brand:x", "brand:x"])
    g.add_edges("described_like", ["product:A", "product:C", "product:A"],
                ["product:B", "product:A", "product:D"], weight=[0.7, 0.6, 0.9])
    g.add_edges("purchased", ["user:1", "user:2"], ["product:A", "product:E"], ts=[10.0, 11.0])
    return g


def test_a_content_led_item_near_the_users_product_has_a_stored_path() -> None:
    g = shop()
    [(fraction, kind, nodes, edges, _)] = content_paths(g, "product:B")
    assert (fraction, kind) == (1.0, "content>described_like")
    assert nodes == ("user:1", "product:A", "product:B")
    assert edges == (("user:1", "purchased", "product:A"),
                     ("product:A", "described_like", "product:B"))
    assert all(hop_exists(g, e) for e in edges)
    assert render_path(g, nodes, edges) == ("You bought Item A today; Item A is described like "
                                            "Item B")


def test_the_edge_is_followed_either_way_as_stored() -> None:
    [(_, kind, nodes, edges, _)] = content_paths(shop(), "product:C")
    assert kind == "content>described_like" and nodes[-1] == "product:C"
    assert edges[-1] == ("product:C", "described_like", "product:A")  # C's own neighbour


def test_a_shared_brand_is_said_before_the_likeness() -> None:
    [(_, kind, _, _, _)] = content_paths(shop(), "product:D")
    assert kind == "content>same_brand"
    assert content_paths(shop(), "product:E") == []  # nothing stored joins them


def test_the_path_type_is_offered_only_where_the_edges_are() -> None:
    assert "content>described_like" in evidence_types(shop(), ["content"])
    bare = KnowledgeGraph()
    bare.add_edges("purchased", ["user:1"], ["product:A"])
    assert "content>described_like" not in evidence_types(bare, ["content"])


def test_the_meta_path_walks_a_products_neighbours_by_cosine() -> None:
    g = shop()
    walks = {"bought>described_like", "rated>described_like", "liked>described_like"}
    assert not walks & {mp.name for mp in DEFAULT_METAPATHS}  # asked for: paths.described_like
    assert walks <= {mp.name for mp in catalogue(described_like=True)}
    assert not walks & {m.name for m in available_metapaths(g)}
    [mp] = [m for m in available_metapaths(g, described_like=True)
            if m.name == "bought>described_like"]
    row = metapath_matrix(g, mp, users=np.array([g.index("user:1")])).toarray()[0]
    share = {p: round(float(row[g.index(f"product:{p}")]), 3) for p in "ABCDE"}
    assert share == {"A": 0.0, "B": 0.438, "C": 0.0, "D": 0.562, "E": 0.0}  # 0.7, 0.9 of 1.6


def test_a_connection_goes_through_the_users_own_product_and_the_catalogue() -> None:
    g = shop()
    link = connection_path(g, "user:1", "product:C")
    assert link is not None
    assert link.nodes == ("user:1", "product:A", "product:C")
    assert all(n == "user:1" or n.startswith("product:") for n in link.nodes)
    assert "user:2" not in link.text and "Item E" not in link.text


def test_a_connection_walks_the_likeness_only_where_nothing_else_links() -> None:
    g = shop()
    g.add_edges("in_category", ["product:A", "product:B"], ["category:tea", "category:tea"])
    link = connection_path(g, "user:1", "product:B")  # B is also among A's nearest
    assert link is not None and link.nodes == ("user:1", "product:A", "category:tea",
                                               "product:B")
    assert connection_path(g, "user:1", "product:C").nodes == ("user:1", "product:A",
                                                               "product:C")
