"""Walking one row through step matrices: a request's meta-path scores and path counts.

A :data:`WalkState` is a row being walked (its non-zero indices and float64 values, and its
width); :func:`walk_on` multiplies it by step matrices touching only the rows it reaches
(:mod:`recommend.paths.metapaths` compiles the steps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["WalkState", "spans", "unique_inverse", "walk_dense", "walk_on", "walk_start"]


def spans(lo: np.ndarray, hi: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """The concatenated ranges ``lo[j]:hi[j]`` (int64; ``lengths``: ``hi - lo``, if known)."""
    if len(lo) == 1:  # (one range: a walk from one node)
        return np.arange(int(lo[0]), int(hi[0]), dtype=np.int64)
    lengths = hi - lo if lengths is None else lengths
    # array methods: numpy's function wrappers cost ~2 us a call here (expl24); the total is
    # the last end (no sum: ~2 us more)
    ends = lengths.cumsum()
    return np.arange(ends[-1] if len(ends) else 0) - (ends - lengths - lo).repeat(lengths)


#: A row being walked: its non-zero (indices, float64 values) and its width.
WalkState = tuple[np.ndarray, np.ndarray, int]


def walk_start(first: sp.csr_matrix, row: int) -> WalkState:
    """Row ``row`` of ``first`` as a :data:`WalkState` (views of the matrix's arrays)."""
    lo, hi = first.indptr[row], first.indptr[row + 1]
    return first.indices[lo:hi], first.data[lo:hi].astype(np.float64), first.shape[1]


def walk_on(state: WalkState, steps: Sequence[sp.csr_matrix]) -> WalkState:
    """The :data:`WalkState` after ``steps``: the row times ``steps[0] @ steps[1] ...``.

    The row is carried as (indices, values) and each step gathers just the CSR rows of its
    non-zeros (a user's few items, the nodes they reach in a step or two), so a request
    costs what it touches, not every entry of each matrix as a dense product would; a row
    that has grown dense is pushed through the whole matrix instead. ``state`` is not
    modified, so a remembered state can be walked on again."""
    idx, val, width = state
    for m in steps:
        if not len(idx):  # nothing reached: no step reaches anything from it
            return steps[-1].indices[:0], np.zeros(0), steps[-1].shape[1]
        if len(idx) * 8 > m.shape[0]:  # dense enough: one product over all of m is cheaper
            dense = np.zeros(m.shape[0])
            dense[idx] = val
            out = np.asarray(dense @ m)
            idx = (out != 0).nonzero()[0]  # (a float array: ~8x slower through flatnonzero)
            val, width = out[idx], m.shape[1]
            continue
        lo, hi = m.indptr[idx], m.indptr[idx + 1]
        width = m.shape[1]
        lengths = hi - lo
        entries = int(lengths.sum())
        if entries >= _SPARSE_PRODUCT and entries * 8 > width:  # (the dense row's case)
            out = sp.csr_matrix((val, idx, [0, len(idx)]), shape=(1, m.shape[0])) @ m
            out.sort_indices()
            idx, val = out.indices, out.data
            continue
        if entries <= _FEW:
            idx, val = _few(idx, val, lo, hi, m, drop_zeros=entries * 8 > width)
            continue
        pos = spans(lo, hi, lengths)
        weights = np.repeat(val, lengths) * m.data[pos]
        if len(pos) * 8 > width:  # many entries: summed into a dense row (no sort)
            out = np.bincount(m.indices[pos], weights, width)
            idx = (out != 0).nonzero()[0]
            val = out[idx]
        else:
            idx, inverse = unique_inverse(m.indices[pos])
            val = np.bincount(inverse, weights, len(idx))
    return idx, val, width


def unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` of a 1-D array (the sorted distinct keys, and
    each key's place among them), without its wrapping (~2x cheaper on a walk's few)."""
    if len(keys) == 0:
        return keys.copy(), np.zeros(0, np.intp)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    new = np.empty(len(keys), bool)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(len(keys), np.intp)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


#: From this many entries in one step, the row times ``m`` is one scipy sparse product (one
#: pass in C; 2x cheaper than numpy's ~8 on ML-100K's 40k-entry steps). It adds each output's
#: terms in the gather's order (the row's entries in turn, each m row as stored) and drops
#: the zero sums, as the dense row does: the same floats.
_SPARSE_PRODUCT = 10_000


def walk_dense(state: WalkState) -> np.ndarray:
    """A :data:`WalkState` as a dense float64 vector."""
    idx, val, width = state
    out = np.zeros(width)
    out[idx] = val
    return out


#: Up to this many entries in one step, the walk sums them in Python (~3x cheaper than
#: numpy's dozen calls on a user's few products or one segment's).
_FEW = 32


def _few(idx: np.ndarray, val: np.ndarray, lo: np.ndarray, hi: np.ndarray,
         m: sp.csr_matrix, *, drop_zeros: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`walk_on`'s gathered sums of one step with few entries: each reached node's
    terms added to 0.0 in the gather's order (the row's entries in turn, each m row as
    stored), as its bincount does; zero sums dropped where its dense row drops them."""
    sums: dict[int, float] = {}
    indices, data = m.indices, m.data
    for v, a, b in zip(val.tolist(), lo.tolist(), hi.tolist(), strict=True):
        for j, d in zip(indices[a:b].tolist(), data[a:b].tolist(), strict=True):
            sums[j] = sums.get(j, 0.0) + v * d
    if drop_zeros:  # (as the dense row's np.flatnonzero: its index type too)
        keys = sorted(k for k, x in sums.items() if x != 0.0)
        return np.array(keys, dtype=np.intp), np.array([sums[k] for k in keys], np.float64)
    keys = sorted(sums)
    return np.array(keys, dtype=indices.dtype), np.array([sums[k] for k in keys], np.float64)
