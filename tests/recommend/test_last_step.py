"""A meta-path's last step added into a score row (:func:`recommend.paths.last_step.
walk_into`): the floats of walking it (:func:`recommend.paths.walks.walk_on`) and adding
``weight`` times the walked values where it reached, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths.last_step import dense_copy, single_columns, walk_into, walk_last
from recommend.paths.walks import walk_on


def _one_per_column(rng: np.random.Generator, rows: int, cols: int) -> sp.csr_matrix:
    owner = rng.integers(0, rows, cols)
    has = rng.random(cols) < 0.9  # some columns hold nothing
    m = sp.csr_matrix((rng.random(int(has.sum())), (owner[has], np.flatnonzero(has))),
                      shape=(rows, cols))
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(np.asarray(m.sum(axis=1)).ravel(), 1e-9)) @ m)


def _reference(state, m, row, weight) -> np.ndarray:
    out = row.copy()
    idx, val, _ = walk_on(state, [m])
    out[idx] += weight * val
    return out


@pytest.mark.parametrize("seed", range(12))
def test_the_same_floats_as_walking(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(3, 60)), int(rng.integers(100, 5000))
    m = _one_per_column(rng, rows, cols) if seed % 3 else sp.random(
        rows, cols, density=0.05, random_state=seed, format="csr")
    k = int(rng.integers(1, rows + 1))
    idx = np.sort(rng.choice(rows, k, replace=False))
    val = rng.random(k) / 7
    val[rng.random(k) < 0.2] = 0.0  # reached at 0 (kept by a walk's unique path)
    before = np.where(rng.random(cols) < 0.5, rng.random(cols) / 3, 0.0)
    weight = float(rng.random() * 3)
    row = before.copy()
    walk_into((idx, val, rows), m, row, weight)
    assert np.array_equal(row, _reference((idx, val, rows), m, before, weight))


def test_repeated_or_unsorted_rows_walk() -> None:
    """A state whose rows repeat sums them as the walk does (never one dense value each)."""
    rng = np.random.default_rng(0)
    m = _one_per_column(rng, 4, 20_000)
    state = (np.array([2, 0, 2]), np.array([0.1, 0.2, 0.3]), 4)
    row = np.zeros(20_000)
    walk_into(state, m, row, 0.7)
    assert np.array_equal(row, _reference(state, m, np.zeros(20_000), 0.7))


def test_single_columns() -> None:
    m = sp.csr_matrix(np.array([[0.5, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    owner, data = single_columns(m)
    assert owner.tolist() == [0, 0, 1] and data.tolist() == [0.5, 0.0, 2.0]
    assert single_columns(sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0]]))) is None
    assert single_columns(sp.csr_matrix(np.array([[np.inf, 0.0]]))) is None


def _as_dense(state) -> np.ndarray:
    idx, val, width = state
    out = np.zeros(width)
    out[idx] = val
    return out


@pytest.mark.parametrize("seed", range(16))
def test_a_dense_copy_walks_the_same_floats(seed: int) -> None:
    """A small, filled step (ML-100K's co-rated counts) walked through its dense copy: the
    walk's floats, in each of the walk's orders (a dense row: index order; else the row's)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(50, 400))
    m = sp.random(n, n, density=0.3, random_state=seed, format="csr")
    m.data = rng.random(m.nnz) / rng.integers(1, 50)
    if seed % 2:  # rows stored unsorted, as a product leaves them
        m = sp.csr_matrix((m.data[::-1].copy(), m.indices[::-1].copy(),
                           (m.nnz - m.indptr[::-1]).copy()), shape=m.shape)[::-1]
    assert dense_copy(m) is not None
    k = int(rng.integers(1, n // (2 if seed % 4 < 2 else 12) + 2))  # many rows, or few
    idx = rng.choice(n, k, replace=False)  # in no order
    val = rng.random(k) / 3
    got = walk_last((idx, val, n), m)
    assert np.array_equal(_as_dense(got), _as_dense(walk_on((idx, val, n), [m])))
    assert (got[1] != 0).all() and (np.diff(got[0]) > 0).all()


def test_no_dense_copy_of_a_big_sparse_or_repeating_matrix() -> None:
    assert dense_copy(sp.random(3000, 3000, density=0.01, format="csr", random_state=0)) is None
    assert dense_copy(sp.random(2049, 2049, density=0.5, format="csr", random_state=0)) is None
    twice = sp.csr_matrix((np.ones(3), np.array([0, 0, 1]), np.array([0, 2, 3])), shape=(2, 2))
    assert dense_copy(twice) is None
    state = (np.array([0, 1]), np.array([0.5, 0.25]), 2)
    assert np.array_equal(_as_dense(walk_last(state, twice)), [1.0, 0.25])


def test_what_is_kept_of_a_matrix_goes_with_it() -> None:
    """A refreshed scorer's old step matrices are not held by these memos."""
    import gc

    from recommend.paths import last_step

    m = sp.csr_matrix(np.eye(30))
    assert single_columns(m) is not None and dense_copy(m) is None
    key = id(m)
    assert key in last_step._owners and key in last_step._dense
    del m
    gc.collect()
    assert key not in last_step._owners and key not in last_step._dense
