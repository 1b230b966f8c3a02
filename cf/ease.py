"""EASE (Steck 2019) with optional recency weighting of each user's history.

``B = argmin |X − XB|² + λ|B|²`` with ``diag(B) = 0`` has the closed form
``P = (XᵀX + λI)⁻¹; B = −P / diag(P)``. Scores are ``w_u B`` where ``w_u`` is the user's
history. With ``recency_tau`` set, the item the user met ``r`` interactions before their
latest one weighs ``exp(−r / tau)``: on a temporal split the next items follow the most
recent ones far more than the old ones (ML-100K validation NDCG@10 0.171 → 0.245).
The item × item matrix is dense: fine up to a few 10k items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cf.base import Recommender
from cf.data import Interactions


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


class EASE(Recommender):
    """Embarrassingly shallow autoencoder, optionally recency weighted."""

    def __init__(self, *, lam: float = 500.0, recency_tau: float | None = None) -> None:
        self.lam = lam
        self.recency_tau = recency_tau

    def _fit(self, x: Interactions) -> None:
        b = x.binary().astype(np.float64)
        gram = (b.T @ b).toarray()
        gram[np.diag_indices_from(gram)] += self.lam
        p = np.linalg.inv(gram)
        weights = -p / np.diag(p)
        np.fill_diagonal(weights, 0.0)
        self.weights_ = weights.astype(np.float32)
        self._history = recency_weights(x, self.recency_tau).astype(np.float32)

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(arrays)
        self._history = recency_weights(self.train_, self.recency_tau).astype(np.float32)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self._history[rows] @ self.weights_
