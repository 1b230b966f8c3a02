"""kg.edges: an adjacency after appends is merged from the cached one, and equals a fresh sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.edges import EdgeBlock, _stable_order

ends = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 70_000), max_size=300), st.booleans())
def test_the_counting_sort_is_the_stable_argsort(keys, presorted) -> None:
    keys = np.array(sorted(keys) if presorted else keys, np.int64)
    got = _stable_order(keys)
    assert got.dtype == np.int64
    assert np.array_equal(got, np.argsort(keys, kind="stable"))


def appended(block: EdgeBlock, pairs: list[tuple[int, int]]) -> None:
    n = len(pairs)
    block.append(np.array([p[0] for p in pairs], np.int64),
                 np.array([p[1] for p in pairs], np.int64),
                 np.arange(n, dtype=np.float32), np.full(n, np.nan))


@settings(max_examples=60, deadline=None)
@given(ends, st.lists(ends, min_size=1, max_size=4))
def test_merged_adjacency_equals_a_fresh_one(first, later) -> None:
    block = EdgeBlock("user", "viewed", "product")
    appended(block, first)
    for side in ("src", "dst"):
        block.adjacency(side)
    for pairs in later:
        block = block.fork()  # as Recommender.add grows the served graph
        appended(block, pairs)
        fresh = EdgeBlock("user", "viewed", "product")
        c = block.columns()
        fresh.append(c.src, c.dst, c.weight, c.ts)
        for side in ("src", "dst"):
            got, want = block.adjacency(side), fresh.adjacency(side)
            assert got.version == block.version
            for name in ("indptr", "order", "other", "weight"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (side, name)


def test_a_cache_for_some_relations_survives_edges_of_others() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:a"], ["product:p"])
    g.add_edges("viewed", ["user:a"], ["product:q"])
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert g.cached_for("k", ("purchased",), compute) == 1
    fork = g.fork()
    fork.add_edges("viewed", ["user:a"], ["product:p"])
    assert fork.cached_for("k", ("purchased",), compute) == 1  # kept
    fork.add_edges("purchased", ["user:a"], ["product:q"])
    assert fork.cached_for("k", ("purchased",), compute) == 2
    fork.add_node("user:b")
    assert fork.cached_for("k", ("purchased",), compute) == 3
    assert g.cached_for("k", ("purchased",), compute) == 1  # the origin keeps its own


def test_consolidate_brings_built_adjacencies_up_to_date() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:a", "user:b"], ["product:p", "product:p"])
    g.neighbors("user:a")  # builds the "src" adjacency of the block
    fork = g.fork()
    fork.add_edges("purchased", ["user:a"], ["product:q"])
    fork.consolidate()
    block = fork._blocks[("user", "purchased", "product")]
    assert block._adjacency["src"].version == block.version
    assert "dst" not in block._adjacency  # never built: not built now
    assert [e.dst for e in fork.neighbors("user:a")] == ["product:p", "product:q"]


@settings(max_examples=60, deadline=None)
@given(ends, ends, st.sets(st.integers(0, 15), max_size=6))
def test_positions_of_some_nodes_are_what_a_mask_finds(first, later, nodes) -> None:
    block = EdgeBlock("user", "viewed", "product")
    appended(block, first)
    block.adjacency("src")
    block = block.fork()
    appended(block, later)  # an adjacency merged after appends, as after Recommender.add
    c = block.columns()
    picked = np.array(sorted(nodes), np.int64)
    for side, ends_of in (("src", c.src), ("dst", c.dst)):
        want = np.flatnonzero(np.isin(ends_of, picked))
        got = block.positions_of(side, picked)
        assert np.array_equal(got, want) and got.dtype == np.int64, side


def test_edges_from_gives_each_source_blocks_columns_and_the_nodes_edges() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    g.add_edges("mentions", ["post:x", "post:y"], ["product:p", "product:q"])
    g.add_edges("viewed", ["user:a", "user:b", "user:a"], ["product:p", "product:q", "post:x"])
    b = g.index("user:b")
    found = [(c.src_type, c.dst_type, at.tolist()) for c, at in
             g.edges_from("viewed", "user", np.array([b]))]
    assert found == [("user", "product", [1]), ("user", "post", [])]
    assert list(g.edges_from("mentions", "user", np.array([0]))) == []
