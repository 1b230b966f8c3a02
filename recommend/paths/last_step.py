"""A walk's last step (:func:`walk_last`), and a meta-path's added into a dense score row
(:func:`walk_into`: ``row += weight * (state @ m)``), cheaper than walking where they can be
and the same floats.

:meth:`recommend.paths.scorer.GraphPathScorer.score_dense` walks each meta-path from the
user (:func:`recommend.paths.walks.walk_on`) and adds ``weight`` times the walked row
where it reached. When every column of the last step's matrix holds at most one entry (each
product in one category: ``in_category`` followed in), each product the step reaches is one
product of two floats, ``v[r] * m[r, c]`` (no sum whose order matters), so a step that
reaches many products is one pass over the columns, ``weight * (v[owner] * data)``: the same
floats where it reaches and an added zero elsewhere (a user's categories reach ~1,300 of the
size world's 18,000 products: ~25 us, where the walk and its scatter took ~65 us).

A small step matrix that is dense anyway (ML-100K's co-rated counts and session transitions:
1,682 x 1,682, 27-30% filled) is kept as a dense copy too (:func:`dense_copy`), and a row
that reaches many of its entries is the row's entries times the copy's rows, added in the
walk's order (scipy's sparse row times a dense block: each entry's row added in turn):
~230 us for a user's 100 products on ML-100K, where the walk took ~430 us.

>>> import scipy.sparse as sp
>>> m = sp.csr_matrix(np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]))
>>> row = np.zeros(3)
>>> walk_into((np.array([0, 1]), np.array([0.25, 0.75]), 2), m, row, 2.0)
>>> row.tolist()
[0.25, 1.5, 0.25]
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.paths.walks import WalkState, walk_on

__all__ = ["DENSE_CELLS", "by_columns", "columns_exact", "dense_copy", "last_term", "row_owners",
           "single_columns", "walk_into", "walk_last"]

#: Step matrices of at most this many cells, at least 1/:data:`DENSE_SHARE` filled, get a
#: dense float64 copy (32 MB at most each).
DENSE_CELLS = 1 << 22
DENSE_SHARE = 8

def single_columns(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """Per column of ``m``, the row of its one entry (0 where it has none) and the entry
    (0.0 where none); None when a column holds two or more, or an entry is not finite."""

    def make() -> tuple[np.ndarray, np.ndarray] | None:
        counts = np.bincount(m.indices, minlength=m.shape[1])
        if (counts > 1).any() or not np.isfinite(m.data).all():
            return None
        owner = np.zeros(m.shape[1], np.int64)
        data = np.zeros(m.shape[1])
        owner[m.indices] = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        data[m.indices] = m.data
        return owner, data

    return _per_matrix(_owners, m, make)


def walk_into(state: WalkState, m: sp.csr_matrix, row: np.ndarray, weight: float) -> None:
    """Add ``weight`` times ``state``'s row walked through ``m`` into ``row`` (dense, one
    value per column of ``m``): the floats of ``row[idx] += weight * val`` for the walked
    ``(idx, val)``, by one pass over the columns when ``m`` has one entry per column and the
    walk would touch many of them (module doc)."""
    idx, add = last_term(state, m, weight)
    if idx is None:
        row += add
    else:
        row[idx] += add


def last_term(state: WalkState, m: sp.csr_matrix, weight: float
              ) -> tuple[np.ndarray | None, np.ndarray]:
    """What :func:`walk_into` adds: ``(None, add)``, a value for every column of ``m`` (its
    pass over the columns), or ``(idx, add)``, ``row[idx] += add``."""
    idx, val, _ = state
    if by_columns(state, m) and columns_exact(state, weight):
        owner, data = single_columns(m)  # type: ignore[misc]
        v = np.zeros(m.shape[0])
        v[idx] = val
        add = v[owner]
        add *= data
        add *= weight
        return None, add
    idx, val, _ = walk_last(state, m)
    return idx, weight * val


def by_columns(state: WalkState, m: sp.csr_matrix) -> bool:
    """Whether ``m`` has one entry per column and a pass over them is cheaper than walking
    ``state``'s row through it (:func:`last_term` takes it when :func:`columns_exact`)."""
    idx = state[0]
    return (len(idx) > 0 and single_columns(m) is not None
            and _columns_cheaper(int((m.indptr[idx + 1] - m.indptr[idx]).sum()), m.shape))


def columns_exact(state: WalkState, weight: float) -> bool:
    """Whether a pass over the columns of a step with one entry per column gives the walk's
    floats from ``state`` (module doc): a finite weight and values, distinct rows."""
    idx, val, _ = state
    return bool(math.isfinite(weight) and np.isfinite(val).all()
                and (len(idx) < 2 or (idx[1:] > idx[:-1]).all()))


def walk_last(state: WalkState, m: sp.csr_matrix) -> WalkState:
    """``state`` walked through ``m``: :func:`~recommend.paths.walks.walk_on`'s floats
    (where the sum is not 0: a product without one may be left out), through the matrix's
    dense copy (:func:`dense_copy`) when the row reaches many of its entries (module doc)."""
    idx, val, _ = state
    dense = dense_copy(m) if len(idx) else None
    if dense is None or not np.isfinite(val).all():
        return walk_on(state, [m])
    entries = int((m.indptr[idx + 1] - m.indptr[idx]).sum())
    if len(idx) * m.shape[1] > 5 * entries:  # (~1.4 ns per dense cell, ~8 per entry)
        return walk_on(state, [m])
    if len(idx) * 8 > m.shape[0]:  # walk_on pushes a dense row: summed in index order
        order = np.argsort(idx, kind="stable")
        idx, val = idx[order], val[order]
        if len(idx) > 1 and not (np.diff(idx) > 0).all():
            return walk_on(state, [m])  # (a repeated index: the dense row keeps its last)
    one = sp.csr_matrix((val, idx, np.array([0, len(idx)])), shape=(1, m.shape[0]))
    out = np.asarray(one @ dense).ravel()
    reached = (out != 0).nonzero()[0]  # (of a float array, ~8x cheaper than flatnonzero)
    return reached, out[reached], m.shape[1]


def row_owners(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """When each column of ``m`` holds at most one entry and each row's entries are equal
    (a category's products, row normalised): per column its row (``m.shape[0]`` where it
    has none) and per row its entry (one more, 0.0, for the columns without one). None
    otherwise. Made once per matrix."""

    def make() -> tuple[np.ndarray, np.ndarray] | None:
        if single_columns(m) is None:
            return None
        lengths = np.diff(m.indptr)
        first = np.repeat(m.data[m.indptr[:-1][lengths > 0]], lengths[lengths > 0])
        if not np.array_equal(m.data, first):
            return None
        owner = np.full(m.shape[1], m.shape[0], np.int64)
        owner[m.indices] = np.repeat(np.arange(m.shape[0]), lengths)
        value = np.zeros(m.shape[0] + 1)
        value[:-1][lengths > 0] = m.data[m.indptr[:-1][lengths > 0]]
        return owner, value

    return _per_matrix(_rows, m, make)


#: Per step matrix (by identity, dropped with it): its column owners (:func:`single_columns`),
#: its row owners (:func:`row_owners`) and its dense copy (:func:`dense_copy`).
_owners: dict[int, Any] = {}
_rows: dict[int, Any] = {}
_dense: dict[int, Any] = {}
_lock = threading.Lock()


def _per_matrix(store: dict[int, Any], m: sp.csr_matrix, make: Callable[[], Any]) -> Any:
    """``make()`` of matrix ``m``, made once and kept in ``store`` while ``m`` lives."""
    key = id(m)
    if key in store:
        return store[key]
    value = make()
    with _lock:
        if key not in store:
            store[key] = value
            weakref.finalize(m, store.pop, key, None)
    return store[key]


def dense_copy(m: sp.csr_matrix) -> np.ndarray | None:
    """A dense float64 copy of ``m`` when it is small and filled enough
    (:data:`DENSE_CELLS`, :data:`DENSE_SHARE`) with finite entries, else None; made once
    per matrix and kept while it lives."""

    def make() -> np.ndarray | None:
        rows, cols = m.shape
        ok = (rows * cols <= DENSE_CELLS and m.nnz * DENSE_SHARE >= rows * cols
              and np.isfinite(m.data).all() and _no_repeats(m))
        return m.toarray().astype(np.float64, copy=False) if ok else None

    return _per_matrix(_dense, m, make)


def _columns_cheaper(entries: int, shape: tuple[int, int]) -> bool:
    """Whether one pass over the columns (~1.4 ns per row and column) beats walking
    ``entries`` entries (~30 us, and ~25 ns each: its gathers, sums and scatter)."""
    return 16 * (entries + 1024) > shape[0] + shape[1]


def _no_repeats(m: sp.csr_matrix) -> bool:
    """Whether no cell of ``m`` is stored twice (a dense copy would hold their sum, where a
    walk adds each in turn)."""
    if m.has_canonical_format:
        return True
    c = m.copy()
    c.sum_duplicates()
    return c.nnz == m.nnz
