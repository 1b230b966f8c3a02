"""One user's exact top N by cosine, found through a half-precision copy of the index.

An exact (``flat``) FAISS search reads every product vector: at 18,000 x 384 float32 that is
27.6 MB per request, and the search is bound by memory (~1.5 ms, the largest single cost of a
request on the size world). :func:`half_search` first searches a float16 copy (half the bytes,
:class:`faiss.IndexScalarQuantizer` ``QT_fp16``) a little deeper than asked, then scores
those products exactly and keeps the top ``n`` allowed ones. The answer is the exact search's
own, or None (the caller then runs the exact search):

- a float16 score is within ``eps`` of the float32 one (each stored value is rounded by at
  most 2^-11 of itself, so the score by at most 2^-11 |q| |x| plus float32 summation error),
  so every product whose exact score can reach the n-th allowed one scores at least the n-th
  allowed half score minus ``2 eps`` (and a margin for the float32 sums, below): if the
  deeper half search did not reach below that line, it is None;
- the products above the line are scored again in float32 and the ``n`` best kept. The
  whole index's search may sum a product's score in another order (FAISS's kernels differ
  with the index's size: on faiss 1.15 76% of the size world's products score other bits
  alone than in the whole index), so each float32 score is within ``sum_err`` of the true
  one: when the n-th and the next score are within twice that, which of them the exact
  search keeps is its own affair: None.

>>> import numpy as np
>>> from recommend.content.index import ContentIndex
>>> rng = np.random.default_rng(0)
>>> idx = ContentIndex.build([f"p:{i}" for i in range(3000)], rng.normal(size=(3000, 16)))
>>> q = rng.normal(size=16).astype(np.float32)
>>> may = np.ones(3000, bool)
>>> exact = idx.search(q[None], 20, allowed=may[None]).indices[0]
>>> sorted(half_search(idx, q, 20, may).tolist()) == sorted(exact.tolist())
True
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from recommend.content.index import ContentIndex

__all__ = ["DEEPER", "KEPT", "MIN_ITEMS", "float32_sum_error", "half_search"]

#: Below this many products the exact search is cheap: no half copy is made.
MIN_ITEMS = 2000
#: How many more products than the exact search fetches the half search looks at.
DEEPER = 64
#: How many indexes' half copies are kept.
KEPT = 2
_ROUNDING = 2.0**-11  # float16's relative rounding error
_SUBNORMAL = 2.0**-25  # its absolute rounding error below the smallest normal (6.1e-5)
_UNIT32 = 2.0**-24  # float32's


def float32_sum_error(dim: int, q_norm: float | np.ndarray, largest: float
                      ) -> float | np.ndarray:
    """How far a float32 dot product over ``dim`` terms of a query of norm ``q_norm`` with a
    vector of norm at most ``largest`` can be from the true one (with 1% room for the
    bound's own rounding): any two summation orders agree within twice this."""
    return 1.01 * dim * _UNIT32 * q_norm * largest


class _Copies:
    """The float16 copies of the last :data:`KEPT` indexes searched (the served one, and the
    next while an update swaps it in), each valid while its index has the same size (an
    index only grows). Made on the first search of an index (~0.1 s at 18,000 products), or
    from its source's copy (:meth:`_appended`)."""

    def __init__(self) -> None:
        self._slots: dict[int, tuple[Any, int, Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, index: ContentIndex) -> tuple[Any, float]:
        hit = self._slots.get(id(index))
        if hit is not None and hit[0] is index and hit[1] == len(index):
            return hit[2], hit[3]
        with self._lock:  # one copy per index, however many first requests arrive at once
            hit = self._slots.get(id(index))
            if hit is not None and hit[0] is index and hit[1] == len(index):
                return hit[2], hit[3]
            half, largest = self._appended(index) or _float16_copy(index)
            slots = [(k, v) for k, v in self._slots.items() if v[0] is not index]
            kept = slots[len(slots) - (KEPT - 1):] if KEPT > 1 else []
            self._slots = dict([*kept, (id(index), (index, len(index), half, largest))])
        return half, largest

    def _appended(self, index: ContentIndex) -> tuple[Any, float] | None:
        """``index``'s float16 copy made from the kept copy of the index it was copied from
        (:meth:`~recommend.content.index.ContentIndex.copy`: a product write) when that copy
        was made at the size ``index`` was copied at: cloned, with the rows appended since
        added (float16 rounds each value alone: the rows :func:`_float16_copy` makes; size
        world: 5 ms of CPU, where a whole copy took 50-100 ms); else None."""
        import faiss

        if index.source is None:
            return None
        origin, size = index.source[0](), index.source[1]
        hit = None if origin is None else self._slots.get(id(origin))
        if hit is None or hit[0] is not origin or hit[1] != size or size > len(index):
            return None
        tail = np.ascontiguousarray(index.vectors_at(np.arange(size, len(index))), np.float32)
        half = faiss.clone_index(hit[2])
        half.add(tail)
        return half, max(hit[3], float(np.linalg.norm(tail, axis=1).max(initial=0.0)))


def _float16_copy(index: ContentIndex) -> tuple[Any, float]:
    """A float16 FAISS copy of ``index``'s vectors and their largest norm."""
    import faiss

    vectors = np.ascontiguousarray(index.vectors(), np.float32)
    half = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16,
                                      faiss.METRIC_INNER_PRODUCT)
    half.train(vectors)
    half.add(vectors)
    return half, float(np.linalg.norm(vectors, axis=1).max(initial=0.0))


_COPIES = _Copies()


def half_search(index: ContentIndex, query: np.ndarray, n: int, allowed: np.ndarray
                ) -> np.ndarray | None:
    """The positions (in no set order) of the exact search's ``n`` best ``allowed`` products
    for one ``query`` row, as :meth:`ContentIndex.search` finds them; None when this cannot
    tell them apart for sure (module doc), when no more than ``n`` are allowed or the query
    is zero (the exact search is plain then), or when the index is not an exact one of at
    least :data:`MIN_ITEMS` products."""
    from recommend.content.index import normalise_rows

    size = len(index)
    if index.params.get("kind") != "flat" or size < MIN_ITEMS:
        return None
    q = normalise_rows(np.asarray(query, np.float32)[None, :])
    q_norm = float(np.linalg.norm(q))
    n_allowed = int(allowed.sum())
    if q_norm == 0.0 or n_allowed <= n:
        return None  # nothing to find, or every allowed product: the exact search is plain
    fetch = min(n + (size - n_allowed) + DEEPER, size)
    half, largest = _COPIES.get(index)
    approx, found = half.search(q, fetch)
    approx, found = approx[0].astype(np.float64), found[0]
    ok = (found >= 0) & allowed[np.maximum(found, 0)]
    if ok.sum() <= n or fetch == size:
        return None
    dim = q.shape[1]
    sum_err = float32_sum_error(dim, q_norm, largest)
    eps = _ROUNDING * q_norm * largest + dim * _SUBNORMAL * q_norm + 2 * sum_err
    # below the line, a product's exact score is under the n-th best one by more than the
    # float32 sums can blur (2 sum_err, and one more for margin)
    line = np.sort(approx[ok])[::-1][n - 1] - 2 * eps - 3 * sum_err
    if approx[-1] >= line:  # the half search may have stopped above the line
        return None
    near = np.sort(found[ok & (approx >= line)])
    exact = _flat_scores(index.index.reconstruct_batch(near), q)
    order = np.argsort(-exact, kind="stable")
    if len(near) > n and exact[order[n - 1]] - exact[order[n]] <= 2 * sum_err:
        return None  # a near tie: which one the exact search keeps is its own affair
    return near[order[:n]].astype(np.int64)


def _flat_scores(vectors: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``q``'s float32 scores of ``vectors`` by FAISS's flat kernel (each within the float32
    summation error of the score a search over the whole index gives: not always its bits)."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, np.float32))
    scores, rows = flat.search(q, len(vectors))
    out = np.empty(len(vectors), np.float32)
    out[rows[0]] = scores[0]
    return out
