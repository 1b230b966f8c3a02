"""Stored content-neighbour edges (kg.described_like): what a search's rows become."""

from __future__ import annotations

import numpy as np
import pytest

from kg.described_like import RELATION, add_described_like, described_like_edges, neighbour_pairs
from kg.graph import KnowledgeGraph
from kg.schema import relation


def test_the_relation_is_declared_product_to_product() -> None:
    rel = relation(RELATION)
    assert (rel.src_types, rel.dst_types) == (("product",), ("product",))


def test_a_row_keeps_its_neighbours_above_the_floor_but_not_itself_nor_padding() -> None:
    found = np.array([[0, 2, 1, -1], [1, 1, 0, 2]])
    scores = np.array([[1.0, 0.8, 0.4, -np.inf], [1.0, 1.0, 0.7, 0.6]])
    pairs = neighbour_pairs(found, scores, np.array([0, 1]), floor=0.5)
    assert list(zip(pairs.src.tolist(), pairs.dst.tolist(), strict=True)) == [(0, 2), (1, 0),
                                                                              (1, 2)]
    assert np.allclose(pairs.similarity, [0.8, 0.7, 0.6])
    assert pairs.similarity.dtype == np.float32


def test_a_product_listed_twice_in_its_row_gives_one_edge() -> None:
    pairs = neighbour_pairs(np.array([[1, 1, 2]]), np.array([[0.9, 0.9, 0.8]]), np.array([0]),
                            floor=0.0)
    assert pairs.dst.tolist() == [1, 2]


def test_the_rows_and_the_search_must_agree() -> None:
    with pytest.raises(ValueError, match="for 2 products"):
        neighbour_pairs(np.zeros((1, 3), int), np.zeros((1, 3)), np.array([0, 1]), floor=0.5)


def test_every_graph_given_gains_the_same_edges_weighted_by_cosine() -> None:
    graphs = []
    for _ in range(2):
        g = KnowledgeGraph()
        g.add_edges("made_by", ["product:a", "product:b", "product:c"], ["brand:x"] * 3)
        graphs.append(g)
    pairs = neighbour_pairs(np.array([[1, 2], [0, 2]]), np.array([[0.9, 0.6], [0.9, 0.3]]),
                            np.array([0, 1]), floor=0.5)
    assert add_described_like(graphs, pairs) == 3
    for g in graphs:
        assert described_like_edges(g) == 3
        assert g.has_edge("product:a", RELATION, "product:b")
        assert g.has_edge("product:b", RELATION, "product:a")
        assert not g.has_edge("product:b", RELATION, "product:c")  # under the floor
        m = g.matrix(RELATION, "product", src_type="product").toarray()
        assert m[0, 1] == pytest.approx(0.9) and m[0, 2] == pytest.approx(0.6)


def test_a_pair_naming_no_product_of_the_graph_is_refused() -> None:
    g = KnowledgeGraph()
    g.add_edges("made_by", ["product:a"], ["brand:x"])
    pairs = neighbour_pairs(np.array([[5]]), np.array([[0.9]]), np.array([0]), floor=0.5)
    with pytest.raises(ValueError, match="not in a graph of 1 products"):
        add_described_like([g], pairs)
    assert described_like_edges(g) == 0
