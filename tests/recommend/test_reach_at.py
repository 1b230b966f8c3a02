"""A 3-step meta-path's middle layer read at a few nodes: the walk's floats, without the walk."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import recommend.paths.instances as instances
from recommend.paths.instances import reach_at, reach_state, values_at
from recommend.paths.walks import walk_on, walk_start


def steps(seed: int, users: int = 6, firsts: int = 40, middles: int = 300):
    """A user -> a -> b step pair with values that round differently in another order, the
    middle step's rows unsorted and with repeated entries (a non-canonical CSR)."""
    rng = np.random.default_rng(seed)
    first = sp.random(users, firsts, density=0.3, format="csr", random_state=rng)
    first.data = rng.random(first.nnz) / 3.0
    rows, cols = [], []
    for a in range(firsts):
        k = int(rng.integers(0, 12))
        rows += [a] * k
        cols += rng.integers(0, middles, k).tolist()
    data = rng.random(len(rows)) * 1e3
    middle = sp.csr_matrix((data, (rows, cols)), shape=(firsts, middles))
    middle = sp.csr_matrix((middle.data, middle.indices, middle.indptr), shape=middle.shape)
    # shuffle each row's entries and repeat a few: the walk adds them in the stored order
    order = np.concatenate([rng.permutation(np.arange(lo, hi)) for lo, hi in
                            zip(middle.indptr[:-1], middle.indptr[1:], strict=True)])
    indices, data = middle.indices[order], middle.data[order]
    again = rng.choice(len(indices), len(indices) // 5, replace=False)
    keep = np.sort(np.concatenate([np.arange(len(indices)), again]))
    counts = np.bincount(np.searchsorted(middle.indptr[1:], keep, side="right"),
                         minlength=firsts)
    indptr = np.concatenate(([0], counts.cumsum()))
    middle = sp.csr_matrix((data[keep], indices[keep], indptr), shape=(firsts, middles))
    last = sp.random(middles, 10, density=0.2, format="csr", random_state=rng)
    return [first, middle, last]


@pytest.mark.parametrize("seed", range(30))
def test_reach_at_is_the_walks_values_at_the_nodes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for count in (3, 12, 200):  # few nodes: read from their columns; many: walked
        mats = steps(seed)
        nodes = rng.integers(0, mats[1].shape[1], count)
        csc = mats[1].tocsc()
        for u in range(mats[0].shape[0]):
            walked = walk_on(walk_start(mats[0], u), mats[1:2])  # what reach_state walks
            expected = values_at(walked, nodes)
            assert instances._by_user.peek(mats[1], (id(mats[0]), u)) is None
            got = reach_at(mats, u, nodes)
            assert got.tobytes() == expected.tobytes()  # the same floats, bit for bit
            row = mats[0].indices[mats[0].indptr[u]:mats[0].indptr[u + 1]]
            rows = int((mats[1].indptr[row + 1] - mats[1].indptr[row]).sum())
            columns = int((csc.indptr[nodes + 1] - csc.indptr[nodes]).sum())
            remembered = instances._by_user.peek(mats[1], (id(mats[0]), u))
            assert (remembered is None) == (rows >= columns)  # walked only when cheaper
            remembered = reach_state(mats, u)  # remembered: read from it
            assert reach_at(mats, u, nodes).tobytes() == values_at(remembered,
                                                                   nodes).tobytes()


def test_reach_at_walks_a_first_step_row_out_of_order() -> None:
    mats = steps(0)
    first = mats[0].copy()
    lo, hi = first.indptr[0], first.indptr[1]
    assert hi - lo > 2
    first.indices[lo:hi] = first.indices[lo:hi][::-1].copy()  # a row stored backwards
    first.data[lo:hi] = first.data[lo:hi][::-1].copy()
    mats = [first, *mats[1:]]
    nodes = np.arange(mats[1].shape[1])
    walked = walk_on(walk_start(first, 0), mats[1:2])
    assert reach_at(mats, 0, nodes).tobytes() == values_at(walked, nodes).tobytes()
    assert instances._by_user.peek(mats[1], (id(first), 0)) is not None  # it walked


def test_a_user_reaching_nothing_reads_zeros() -> None:
    mats = steps(1)
    empty = sp.csr_matrix(mats[0].shape)
    nodes = np.arange(5)
    assert reach_at([empty, *mats[1:]], 0, nodes).tolist() == [0.0] * 5
    assert reach_at(mats, 0, nodes[:0]).shape == (0,)


def test_a_first_step_row_stored_out_of_order_is_sorted_stably() -> None:
    from recommend.paths.instances import _first_step

    m = sp.csr_matrix((np.array([1.0, 2.0, 3.0, 4.0]), np.array([5, 1, 5, 0]),
                       np.array([0, 4])), shape=(1, 6))
    assert not m.has_sorted_indices
    idx, val, _ = _first_step(m, 0)
    assert idx.tolist() == [0, 1, 5, 5] and val.tolist() == [4.0, 2.0, 1.0, 3.0]


@pytest.mark.parametrize("seed", range(20))
def test_rows_sorted_is_each_rows_own_order(seed: int) -> None:
    from recommend.paths.instances import rows_sorted

    rng = np.random.default_rng(seed)
    m = sp.random(8, 12, density=0.4, format="csr", random_state=rng)
    m = sp.csr_matrix((m.data, m.indices.copy(), m.indptr), shape=m.shape)
    r = int(rng.integers(0, 8))
    lo, hi = m.indptr[r], m.indptr[r + 1]
    if seed % 3 == 1:
        m.indices[lo:hi] = m.indices[lo:hi][::-1].copy()  # (scipy's flag not told)
    elif seed % 3 == 2 and hi > lo:
        m.indices[lo:hi] = m.indices[lo]  # repeated, in order
    rows = [m.indices[m.indptr[k]:m.indptr[k + 1]] for k in range(8)]
    assert rows_sorted(m) == all((np.diff(x) >= 0).all() for x in rows)
    assert rows_sorted(m, strict=True) == all((np.diff(x) > 0).all() for x in rows)


@pytest.mark.parametrize("width", [40, 256, 257, 5000])
def test_values_at_reads_narrow_and_wide_rows_as_their_dense_form(width: int) -> None:
    from recommend.paths.walks import walk_dense

    rng = np.random.default_rng(width)
    idx = np.sort(rng.choice(width, min(width, 30), replace=False))
    idx = np.concatenate([idx[:5], idx[4:5], idx[5:]])  # one repeated: the last value counts
    val = rng.random(len(idx)) - 0.5
    val[0] = -0.0
    state = (idx, val, width)
    dense = walk_dense(state)
    for nodes in (rng.integers(0, width, 3), idx[:4], np.arange(min(width, 300))):
        assert values_at(state, nodes).tobytes() == dense[nodes].tobytes()


@pytest.mark.parametrize("seed", range(20))
def test_from_rows_groups_few_entries_as_the_stable_sort_does(seed: int) -> None:
    import recommend.paths.instances as ins

    rng = np.random.default_rng(seed)
    step = steps(seed, middles=6)[1]  # rows unsorted, entries repeated, columns shared
    rows = np.sort(rng.choice(step.shape[0], int(rng.integers(0, 8)), replace=False))
    b = rng.integers(0, step.shape[1], int(rng.integers(0, 12)))
    few = ins._from_rows(step, rows, b)
    saved = ins._FEW_ENTRIES
    try:
        ins._FEW_ENTRIES = -1  # the numpy sort
        many = ins._from_rows(step, rows, b)
    finally:
        ins._FEW_ENTRIES = saved
    assert len(few) == len(many)
    for x, y in zip(few, many, strict=True):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
