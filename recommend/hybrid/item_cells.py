"""Cells of an item x item matrix (a cf model's weights, the session's transitions) as the
history components read them: one column, or the one-product terms of a history's split.

A sparse matrix is read through its CSC form, made once and kept while the matrix lives
(matrices are never changed in place), so a request reads the few columns it asks for
instead of slicing the matrix's rows.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.paths.walks import spans

__all__ = ["history_split", "matrix_column", "one_product_scores", "one_product_terms"]

#: CSC forms by matrix id, not by holder (add() shallow-copies components, keeping matrices).
_CSC: dict[int, tuple[sp.csc_matrix, bool]] = {}


def _csc(m: Any) -> tuple[sp.csc_matrix, bool]:
    """A sparse ``m``'s CSC form with sorted rows, kept while ``m`` lives (matrices are never
    changed in place), and whether it stores every cell at most once."""
    hit = _CSC.get(id(m))
    if hit is None:
        csc = sp.csc_matrix(m, copy=True)
        csc.sort_indices()
        column = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
        twice = ((np.diff(csc.indices) == 0) & (np.diff(column) == 0)).any()
        hit = _CSC.setdefault(id(m), made := (csc, not twice))  # the first thread's is kept
        if hit is made:
            weakref.finalize(m, _CSC.pop, id(m), None)  # runs before the id can be reused
    return hit


def one_product_scores(h: sp.csr_matrix, m: Any, items: np.ndarray) -> np.ndarray | None:
    """``(h @ m)[:, items]`` for histories ``h`` of one entry per row (the evidence's split
    of a history), as scipy's product gives it (:func:`one_product_terms` of its entries).
    None when some row is not one entry or m stores a cell twice."""
    if (np.diff(h.indptr) != 1).any():
        return None
    return one_product_terms(h.indices, h.data, m, items)


def one_product_terms(k: np.ndarray, weights: np.ndarray, m: Any, items: np.ndarray
                      ) -> np.ndarray | None:
    """``(len(k), len(items))``: row r the one-product history ``weights[r]`` at row ``k[r]``
    of ``m`` times m's columns ``items``, as scipy's product gives it: each cell the one
    product ``weights[r] m[k[r], c]`` (0 where m has no such cell), read from m's columns.
    None when a sparse m stores a cell twice (its product would sum them)."""
    k, items = np.asarray(k), np.asarray(items, np.int64)
    if sp.issparse(m):
        csc, single = _csc(m)
        if not single:
            return None
        cells = _cells(csc, np.asarray(k, np.int64), items)
    else:
        cells = np.asarray(m)[np.ix_(k, items)]
    products = weights[:, None] * cells
    products[products == 0] = 0.0  # scipy drops a zero sum (its dense product: 0.0 + it)
    return products


def _cells(csc: sp.csc_matrix, k: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``csc[k][:, items]`` densely (each cell stored once), every asked column read at once:
    scattered into dense columns and gathered at k when those columns are few cells, else
    found by one search over the columns' (position, row) keys."""
    lo, hi = csc.indptr[items], csc.indptr[items + 1]
    pos = spans(lo, hi)
    owner = np.repeat(np.arange(len(items)), hi - lo)
    height = csc.shape[0]
    if len(items) * height <= _DENSE_CELLS_PER_ENTRY * (len(pos) + len(k) * len(items)):
        columns = np.zeros((len(items), height), csc.dtype)
        columns[owner, csc.indices[pos]] = csc.data[pos]
        return columns[:, k].T
    cells = np.zeros((len(k), len(items)), csc.dtype)
    if len(pos) and len(k):
        keys = owner * np.int64(height) + csc.indices[pos]  # sorted: columns in turn
        wanted = k[:, None] + np.arange(len(items)) * np.int64(height)
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[at] == wanted
        cells[hit] = csc.data[pos[at[hit]]]
    return cells


#: :func:`_cells` scatters into dense columns up to this many cells per entry it reads.
_DENSE_CELLS_PER_ENTRY = 8


def history_split(products: np.ndarray, k: np.ndarray, weights: np.ndarray, m: Any,
                  cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A history row (entries ``weights`` at rows ``k`` of ``m``, the user's ``products``)
    split into one-product terms at m's columns ``cols`` (-1: no column, terms 0): (products,
    terms ``(len(k), len(cols))``, their sums), as scipy's products of the one-product rows
    give them; None when a sparse m stores a cell twice."""
    known = cols >= 0
    found = one_product_terms(k, weights, m, cols[known])
    if found is None:
        return None
    terms = np.zeros((len(k), len(cols)))
    terms[:, known] = found
    return products, terms, terms.sum(axis=0)


def matrix_column(m: Any, c: int) -> np.ndarray:
    """Column ``c`` of a dense or sparse matrix as a dense float64 vector (a sparse one's CSC
    form kept while it lives)."""
    if not sp.issparse(m):
        return np.asarray(m[:, c], np.float64)
    csc = _csc(m)[0]
    out = np.zeros(csc.shape[0])
    lo, hi = csc.indptr[c], csc.indptr[c + 1]
    out[csc.indices[lo:hi]] = csc.data[lo:hi]
    return out
