"""Rating and top-k ranking metrics as plain, vectorised functions (PROTOCOL.md).

Ranking metrics take a matrix of recommended item indices (one row per evaluated user,
best first, -1 = no item) and the relevant items as a CSR matrix with the same rows.
Binary gain; NDCG's discount is ``log2(rank + 1)`` and its ideal DCG is taken over
``min(|relevant|, k)`` items; a user with fewer than ``k`` recommendations still counts.

>>> import scipy.sparse as sp
>>> rel = sp.csr_matrix(np.array([[0, 1, 1, 0]]))
>>> round(ndcg_at_k(np.array([[1, 0, 2]]), rel, 3), 4)
0.9197
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def rmse(pred: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(pred) - np.asarray(truth)) ** 2)))


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(truth))))


def hits_matrix(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> np.ndarray:
    """Boolean (n_users, k): is the item at each rank relevant to that user."""
    recs = np.asarray(recs)[:, :k]
    if recs.size == 0:  # no users or k = 0 (scipy would index no pairs as a sparse matrix)
        return np.zeros(recs.shape, bool)
    rel = relevant.tocsr()
    valid = recs >= 0
    safe = np.where(valid, recs, 0)
    rows = np.repeat(np.arange(recs.shape[0]), recs.shape[1]).reshape(recs.shape)
    hit = np.asarray(rel[rows.ravel(), safe.ravel()]).reshape(recs.shape) != 0
    return hit & valid


def _n_relevant(relevant: sp.csr_matrix) -> np.ndarray:
    return np.diff(relevant.tocsr().indptr).astype(np.float64)


def precision_at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Mean over users of hits in the top ``k`` divided by ``k``."""
    return float(hits_matrix(recs, relevant, k).sum(axis=1).mean() / k)


def recall_at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Mean over users of hits in the top ``k`` divided by the number of relevant items."""
    hits = hits_matrix(recs, relevant, k).sum(axis=1)
    return float(np.mean(hits / np.maximum(_n_relevant(relevant), 1)))


def hit_rate_at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Share of users with at least one relevant item in the top ``k``."""
    return float(hits_matrix(recs, relevant, k).any(axis=1).mean())


def ndcg_per_user(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> np.ndarray:
    """Each user's binary-gain NDCG@k (ideal over ``min(|relevant|, k)``; 0 with none)."""
    hits = hits_matrix(recs, relevant, k)
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * disc[: hits.shape[1]]).sum(axis=1)
    ideal_n = np.minimum(_n_relevant(relevant), k).astype(np.int64)
    idcg = np.r_[0.0, np.cumsum(disc)][ideal_n]
    return np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1), 0.0)


def ndcg_at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Mean binary-gain NDCG@k over users (:func:`ndcg_per_user`)."""
    return float(np.mean(ndcg_per_user(recs, relevant, k)))


def map_at_k(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> float:
    """Mean average precision at ``k`` (normalised by ``min(|relevant|, k)``)."""
    hits = hits_matrix(recs, relevant, k).astype(np.float64)
    prec = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    denom = np.minimum(_n_relevant(relevant), k)
    return float(np.mean((prec * hits).sum(axis=1) / np.maximum(denom, 1)))


def catalogue_coverage(recs: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one top-``k`` list."""
    top = np.asarray(recs)[:, :k]
    return float(np.unique(top[top >= 0]).size / n_items)


def mean_popularity(recs: np.ndarray, popularity: np.ndarray, k: int) -> float:
    """Mean train popularity (interaction count) of the recommended items."""
    top = np.asarray(recs)[:, :k]
    return float(np.asarray(popularity)[top[top >= 0]].mean()) if (top >= 0).any() else 0.0
