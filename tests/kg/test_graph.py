"""The columnar knowledge graph: nodes, edges, matrices, neighbours, views, persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kg.graph import KnowledgeGraph


def small_graph() -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("user:1", name="Ann")
    g.add_node("user:2")
    g.add_node("product:A", title="Tea", price=3.5)
    g.add_edges("purchased", ["user:1", "user:1", "user:2"],
                ["product:A", "product:B", "product:A"], weight=8.0, ts=[10.0, None, 30.0])
    g.add_edges("viewed", ["user:1", "user:1"], ["product:A", "product:A"], weight=1.0)
    g.add_edges("follows", ["user:1"], ["user:2"], ts=5.0)
    g.add_edges("mentions", ["post:9", "post:9"], ["product:A", "brand:leafy"],
                start=[0.0, 4.0], end=[3.0, 9.0])
    return g


def test_nodes_keep_index_order_attributes_and_typed_ids():
    g = small_graph()
    assert g.nodes("product") == ["product:A", "product:B"]  # B created by an edge
    assert g.index("product:B") == 1 and g.node_id("product", 1) == "product:B"
    assert g.node_attrs("product:A") == {"title": "Tea", "price": 3.5}
    assert g.node_attrs("product:B") == {}
    g.add_node("product:A", price=4.0, title=None)  # merge; None is skipped
    assert g.node_attrs("product:A") == {"title": "Tea", "price": 4.0}
    assert g.has_node("brand:leafy") and not g.has_node("brand:other")
    with pytest.raises(KeyError, match="product:Z"):
        g.index("product:Z")
    with pytest.raises(ValueError, match="typed node id"):
        g.add_node("42")


def test_edges_are_checked_against_the_relation_table():
    g = KnowledgeGraph()
    with pytest.raises(ValueError, match="user -> user"):
        g.add_edges("follows", ["user:1"], ["product:A"])
    with pytest.raises(ValueError, match="unknown relation"):
        g.add_edges("hates", ["user:1"], ["user:2"])
    with pytest.raises(ValueError, match="typed node id"):
        g.add_edges("follows", ["user:1"], ["2"])
    assert g.num_nodes() == 0 and g.num_edges() == 0


def test_matrix_sums_parallel_edges_and_follows_changes():
    g = small_graph()
    m = g.matrix("viewed", "product")
    assert m.shape == (2, 2)
    assert m.toarray().tolist() == [[2.0, 0.0], [0.0, 0.0]]
    assert g.matrix("purchased", "product").toarray().tolist() == [[8.0, 8.0], [8.0, 0.0]]
    g.add_edges("viewed", ["user:3"], ["product:C"], weight=1.5)
    m2 = g.matrix("viewed", "product")
    assert m2.shape == (3, 3) and m2[2, 2] == pytest.approx(1.5)
    g.add_node("user:4")  # a new node alone still changes the shape
    assert g.matrix("viewed", "product").shape == (4, 3)
    assert g.matrix("liked", "product").nnz == 0
    with pytest.raises(ValueError, match="dst_type"):
        g.matrix("mentions")
    assert g.matrix("mentions", "brand").shape == (1, 1)


def test_has_edge_and_neighbors_in_both_directions():
    g = small_graph()
    assert g.has_edge("user:1", "purchased", "product:B")
    assert not g.has_edge("user:2", "purchased", "product:B")
    assert not g.has_edge("user:1", "liked", "product:A")
    assert not g.has_edge("user:9", "purchased", "product:A")
    out = g.neighbors("user:1", "purchased")
    assert {(e.dst, e.weight, e.ts) for e in out} == {("product:A", 8.0, 10.0),
                                                      ("product:B", 8.0, None)}
    incoming = g.neighbors("product:A", direction="in")
    assert sorted((e.src, e.relation) for e in incoming) == [
        ("post:9", "mentions"), ("user:1", "purchased"), ("user:1", "viewed"),
        ("user:1", "viewed"), ("user:2", "purchased")]
    brand = g.neighbors("post:9", "mentions")
    assert {e.dst: e.columns for e in brand}["brand:leafy"] == {"start": 4.0, "end": 9.0}


def test_summary_counts_nodes_and_edges_per_type():
    s = small_graph().summary()
    assert s.nodes == {"user": 2, "product": 2, "brand": 1, "post": 1}
    assert s.edges == {"follows": 1, "mentions": 2, "purchased": 3, "viewed": 2}
    assert "purchased" in str(s) and "3" in str(s)


def test_networkx_view_has_the_same_edges():
    g = small_graph()
    nxg = g.to_networkx()
    assert nxg.number_of_nodes() == g.num_nodes()
    got = sorted((u, d["relation"], v, d["weight"]) for u, v, d in nxg.edges(data=True))
    want = sorted((e.src, e.relation, e.dst, e.weight) for e in g.edges())
    assert got == want
    assert nxg.nodes["product:A"] == {"type": "product", "title": "Tea", "price": 3.5}
    sub = g.to_networkx(["user:1", "product:A"])
    assert sorted((u, d["relation"], v) for u, v, d in sub.edges(data=True)) == [
        ("user:1", "purchased", "product:A"), ("user:1", "viewed", "product:A"),
        ("user:1", "viewed", "product:A")]


def test_save_load_round_trips_without_pickle(tmp_path):
    g = small_graph()
    g.save(tmp_path)
    loaded = KnowledgeGraph.load(tmp_path)
    assert loaded == g
    assert loaded.nodes("product") == g.nodes("product")
    assert (loaded.matrix("purchased", "product") != g.matrix("purchased", "product")).nnz == 0
    with np.load(tmp_path / "graph_edges.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_load_warns_on_another_version_and_refuses_another_format(tmp_path):
    small_graph().save(tmp_path)
    path = tmp_path / "graph_nodes.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "shopgraph_version": "0.0.1"}))
    with pytest.warns(UserWarning, match="0.0.1"):
        assert KnowledgeGraph.load(tmp_path) == small_graph()
    path.write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(ValueError, match="format 99"):
        KnowledgeGraph.load(tmp_path)


def test_equality_notices_a_different_weight():
    g, h = small_graph(), small_graph()
    assert g == h
    h.add_edges("viewed", ["user:1"], ["product:A"], weight=2.0)
    assert g != h


def test_graph_module_keeps_its_public_names():
    import kg.graph
    from kg.edges import Edge, EdgeColumns, NeighborIndices

    assert (kg.graph.Edge, kg.graph.EdgeColumns, kg.graph.NeighborIndices) == (
        Edge, EdgeColumns, NeighborIndices)
    assert {"GraphSummary", "KnowledgeGraph", "paused_gc"} <= set(kg.graph.__all__)
    with kg.graph.paused_gc():
        assert small_graph().summary().edges
