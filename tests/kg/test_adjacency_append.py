"""kg.edges: an adjacency after appends is merged from the cached one, and equals a fresh sort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.edges import EdgeBlock

ends = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40)


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
