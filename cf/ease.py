"""EASE (Steck 2019) with optional recency weighting of each user's history.

``B = argmin |X − XB|² + λ|B|²`` with ``diag(B) = 0`` has the closed form
``P = (XᵀX + λI)⁻¹; B = −P / diag(P)``. Scores are ``w_u B`` where ``w_u`` is the user's
history. With ``recency_tau`` set, the item the user met ``r`` interactions before their
latest one weighs ``exp(−r / tau)``: on a temporal split the next items follow the most
recent ones far more than the old ones (ML-100K validation NDCG@10 0.171 → 0.245).

Fitting needs the dense n × n Gram (float64, 8 n² bytes; inverted in place by LAPACK's
Cholesky routines, built from sparse row blocks): above ``max_items`` items ``fit`` refuses
with :class:`CatalogueTooLarge`, naming n and the memory, so a caller can fall back to a
neighbour model. With ``top_k`` set, only each history item's ``top_k`` largest ``|B[i, j]|``
are kept, as a CSR over rows i: the artifact grows like n × top_k and a request reads only
its history items' rows. Without it, or where ``2 top_k >= n`` (a CSR entry, float32 and its
int32 column, takes the room of two dense ones: pruning would not shrink ``B``, and would only
lose its smallest weights), ``B`` stays dense (float32, 4 n² bytes). On ML-100K (random 20%
of each user held out, λ 500; bench/cf_item_knn.py) NDCG@10 is 0.456 dense, 0.454 / 0.452 /
0.441 at top_k 500 / 200 / 100; the saved model 12.6 MB dense, 3.9 MB at 200. The fit's
peak memory is about one n × n float64 array (the plain ``inv`` held four).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cf.base import HistoryRecommender
from cf.data import Interactions
from cf.sparse_topk import block_size, prune_blocks


def recency_weights(x: Interactions, tau: float | None) -> sp.csr_matrix:
    """Binary history re-weighted by ``exp(−rank_from_latest / tau)`` (time order).

    Without timestamps (or ``tau`` None) every interaction weighs 1.
    """
    out = x.binary().astype(np.float64)
    if tau is None or x.timestamps is None:
        return out
    rows = np.repeat(np.arange(x.n_users), np.diff(out.indptr))
    order = np.lexsort((out.indices, x.timestamps.data, rows))  # by user, time, item
    ends = out.indptr[rows[order] + 1]  # sorted by user, so user u fills its own CSR span
    rank_from_latest = ends - 1 - np.arange(len(order))
    out.data[order] = np.exp(-rank_from_latest / tau)
    return out


class CatalogueTooLarge(ValueError):
    """The item count is above the model's ``max_items``: fitting would need too much memory."""


def fit_bytes(n_items: int, top_k: int | None) -> int:
    """Bytes of the dense arrays EASE holds while fitting ``n_items`` items."""
    return 8 * n_items**2 + (4 * n_items**2 if top_k is None else 0)


def inverse_gram(b: sp.csr_matrix, lam: float) -> np.ndarray:
    """``(bᵀb + λI)⁻¹`` as one dense float64 array: the Gram is built from sparse row
    blocks and inverted in place (Cholesky, ``dpotrf`` / ``dpotri``), so the peak is one
    n × n array plus one block."""
    from scipy.linalg import lapack

    b = b.astype(np.float64)
    bt = b.T.tocsr()
    n = b.shape[1]
    step = block_size(n)
    gram = np.empty((n, n))
    for lo in range(0, n, step):
        gram[lo : lo + step] = (bt[lo : lo + step] @ b).toarray()
    gram[np.diag_indices(n)] += lam
    # LAPACK works on the Fortran-ordered transpose (the same memory: gram is symmetric).
    chol, info = lapack.dpotrf(gram.T, lower=False, overwrite_a=True, clean=False)
    if info == 0:
        inv_t, info = lapack.dpotri(chol, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram + {lam} I is not positive definite (info {info})")
    p = inv_t.T  # the inverse sits in the lower triangle: mirror it, block by block
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        diag = p[lo:hi, lo:hi]
        diag[...] = np.tril(diag) + np.tril(diag, -1).T
        p[lo:hi, hi:] = p[hi:, lo:hi].T
    return p


class EASE(HistoryRecommender):
    """Embarrassingly shallow autoencoder, optionally recency weighted and pruned to top-K.

    A history given to :meth:`score_history` holds the weights ``w_u``: 1 per seen item,
    or :func:`recency_weights` of it for a ``recency_tau`` model.
    """

    def __init__(
        self,
        *,
        lam: float = 500.0,
        recency_tau: float | None = None,
        top_k: int | None = None,
        max_items: int | None = 20_000,
    ) -> None:
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be None or at least 1, not {top_k}")
        self.lam = lam
        self.recency_tau = recency_tau
        self.top_k = top_k
        self.max_items = max_items

    def fit(self, interactions: Interactions) -> EASE:
        """Learn ``B``; a catalogue above ``max_items`` raises :class:`CatalogueTooLarge`
        before anything is computed or stored."""
        n = interactions.n_items
        if self.max_items is not None and n > self.max_items:
            gib = fit_bytes(n, self.top_k) / 2**30
            raise CatalogueTooLarge(
                f"EASE on {n} items needs a dense {n} x {n} Gram: about {gib:.1f} GiB to fit "
                f"(max_items={self.max_items}); use a neighbour model or raise max_items"
            )
        super().fit(interactions)
        return self

    def _fit(self, x: Interactions) -> None:
        n = x.n_items
        p = inverse_gram(x.binary(), self.lam)
        p /= -np.diag(p).copy()  # B[i, j] = −P[i, j] / P[j, j]
        np.fill_diagonal(p, 0.0)
        if self.top_k is None or 2 * self.top_k >= n:  # pruned would be no smaller
            self.weights_: np.ndarray | sp.csr_matrix = p.astype(np.float32)
        else:
            self.weights_ = prune_blocks(n, n, lambda lo, hi: p[lo:hi], self.top_k, magnitude=True)
        self._history = recency_weights(x, self.recency_tau).astype(np.float32)

    def _set_state(self, arrays: dict[str, np.ndarray | sp.csr_matrix]) -> None:
        super()._set_state(arrays)
        self._history = recency_weights(self.train_, self.recency_tau).astype(np.float32)

    def history_rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """The training users' (recency) weights ``w_u``."""
        return self._history[np.asarray(rows, np.int64)]

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        scores = history @ self.weights_
        return scores.toarray() if sp.issparse(scores) else np.asarray(scores)
