"""Neighbourhood models for ratings: user-based and item-based kNN.

User-based (mean-centred, over the top-k neighbours who rated j):
``r̂_uj = r̄_u + Σ_v (r_vj − r̄_v) w(u,v) / Σ_v |w(u,v)|``, with Pearson (on co-rated
items) or cosine similarity, shrunk by ``(n − 1) / (n − 1 + shrinkage)`` for an overlap of
``n`` items. Item-based: adjusted cosine (user-mean-centred ratings, on co-raters) or
Pearson on baseline residuals; prediction around item means or a bias baseline
(``b_ui = μ + b_u + b_i``, Koren 2010), positive neighbours only, like Surprise's
KNNWithMeans / KNNBaseline. Similarities are dense entity × entity matrices (fine up to
a few 10k entities); pair predictions are vectorised per group of pairs.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
import scipy.sparse as sp

from cf.base import RatingRecommender
from cf.data import Interactions


def fit_biases(
    r: sp.csr_matrix, reg_user: float = 15.0, reg_item: float = 10.0, epochs: int = 10
) -> tuple[float, np.ndarray, np.ndarray]:
    """Global mean and user/item biases by alternating least squares (Surprise's baseline)."""
    mu = float(r.data.mean())
    coo = r.tocoo()
    bu, bi = np.zeros(r.shape[0]), np.zeros(r.shape[1])
    n_u = np.bincount(coo.row, minlength=r.shape[0])
    n_i = np.bincount(coo.col, minlength=r.shape[1])
    for _ in range(epochs):
        bi = np.bincount(coo.col, coo.data - mu - bu[coo.row], r.shape[1]) / (reg_item + n_i)
        bu = np.bincount(coo.row, coo.data - mu - bi[coo.col], r.shape[0]) / (reg_user + n_u)
    return mu, bu, bi


def _with_values(r: sp.csr_matrix, values: np.ndarray) -> sp.csr_matrix:
    out = r.copy().astype(np.float64)
    out.data = np.asarray(values, np.float64)
    return out


def _shrink(sim: np.ndarray, support: np.ndarray, shrinkage: float) -> np.ndarray:
    if shrinkage <= 0:
        return sim
    return sim * np.maximum(support - 1, 0) / (np.maximum(support - 1, 0) + shrinkage)


def cosine_on_support(x: sp.csr_matrix, shrinkage: float = 0.0) -> np.ndarray:
    """Cosine between rows of ``x``, each norm taken over the two rows' common columns."""
    b = x.copy()
    b.data[:] = 1.0
    sq = x.multiply(x).tocsr()
    num = (x @ x.T).toarray()
    norms = (sq @ b.T).toarray()
    den = np.sqrt(norms * norms.T)
    sim = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    sim = _shrink(sim, (b @ b.T).toarray(), shrinkage)
    np.fill_diagonal(sim, 0.0)
    return sim


def pearson_on_support(x: sp.csr_matrix, shrinkage: float = 0.0) -> np.ndarray:
    """Pearson correlation between rows of ``x`` over their common columns."""
    b = x.copy()
    b.data[:] = 1.0
    n = (b @ b.T).toarray()
    sx = (x @ b.T).toarray()
    sxx = (x.multiply(x).tocsr() @ b.T).toarray()
    sxy = (x @ x.T).toarray()
    safe_n = np.maximum(n, 1)
    num = sxy - sx * sx.T / safe_n
    vx = sxx - sx**2 / safe_n
    den = np.sqrt(np.maximum(vx, 0) * np.maximum(vx.T, 0))
    sim = np.divide(num, den, out=np.zeros_like(num), where=den > 1e-12)
    sim = _shrink(sim, n, shrinkage)
    np.fill_diagonal(sim, 0.0)
    return sim


def neighbourhood_average(
    sim: np.ndarray,
    residuals: sp.csr_matrix,
    groups: np.ndarray,
    targets: np.ndarray,
    k: int,
    positive_only: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, Σ w·res / Σ|w| over the top-``k`` of row ``groups`` of ``residuals``.

    ``residuals[g]`` holds the candidate neighbours (columns) and their residuals;
    similarities are ``sim[target, neighbour]``. Returns (average, had_neighbours).
    """
    out = np.zeros(len(groups))
    has = np.zeros(len(groups), bool)
    order = np.argsort(groups, kind="stable")
    g_sorted = groups[order]
    bounds = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1], True])
    for a, b in itertools.pairwise(bounds):
        pairs = order[a:b]
        g = g_sorted[a]
        lo, hi = residuals.indptr[g], residuals.indptr[g + 1]
        if hi == lo:
            continue
        nb, res = residuals.indices[lo:hi], residuals.data[lo:hi]
        s = sim[np.ix_(targets[pairs], nb)]
        r = np.broadcast_to(res, s.shape)
        if len(nb) > k:
            part = np.argpartition(-s, k - 1, axis=1)[:, :k]
            s = np.take_along_axis(s, part, axis=1)
            r = res[part]
        if positive_only:
            s = np.maximum(s, 0.0)
        den = np.abs(s).sum(axis=1)
        ok = den > 0
        out[pairs[ok]] = (s * r).sum(axis=1)[ok] / den[ok]
        has[pairs] = ok
    return out, has


class _KNNBase(RatingRecommender):
    def _scores(self, rows: np.ndarray) -> np.ndarray:
        n_items = self.train_.n_items
        u = np.repeat(rows, n_items)
        i = np.tile(np.arange(n_items), len(rows))
        return self._predict_pairs(u, i).reshape(len(rows), n_items)


class UserKNN(_KNNBase):
    """User-based CF, mean-centred, Pearson or cosine, with shrinkage."""

    def __init__(
        self,
        *,
        k: int = 40,
        similarity: Literal["pearson", "cosine"] = "pearson",
        shrinkage: float = 100.0,
    ) -> None:
        self.k = k
        self.similarity = similarity
        self.shrinkage = shrinkage

    def _fit(self, x: Interactions) -> None:
        r = x.matrix.astype(np.float64)
        counts = np.maximum(np.diff(r.indptr), 1)
        self.global_mean_ = float(r.data.mean()) if r.nnz else 0.0
        sums = np.add.reduceat(r.data, r.indptr[:-1]) if r.nnz else np.zeros(r.shape[0])
        sums[np.diff(r.indptr) == 0] = 0.0
        self.user_mean_ = np.where(np.diff(r.indptr) > 0, sums / counts, self.global_mean_)
        fn = pearson_on_support if self.similarity == "pearson" else cosine_on_support
        self.sim_ = fn(r, self.shrinkage)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        self.by_item_ = _with_values(r, r.data - self.user_mean_[rows]).T.tocsr()

    def _predict_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        avg, _ = neighbourhood_average(self.sim_, self.by_item_, i, u, self.k, False)
        return self.user_mean_[u] + avg

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(arrays)
        r = self.train_.matrix.astype(np.float64)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        self.by_item_ = _with_values(r, r.data - self.user_mean_[rows]).T.tocsr()


class ItemKNN(_KNNBase):
    """Item-based CF: adjusted cosine (or baseline Pearson), top-k, mean or baseline centred."""

    def __init__(
        self,
        *,
        k: int = 40,
        similarity: Literal["adjusted_cosine", "baseline_pearson"] = "adjusted_cosine",
        center: Literal["mean", "baseline"] = "baseline",
        shrinkage: float = 100.0,
        reg_user: float = 15.0,
        reg_item: float = 10.0,
    ) -> None:
        self.k = k
        self.similarity = similarity
        self.center = center
        self.shrinkage = shrinkage
        self.reg_user = reg_user
        self.reg_item = reg_item

    def _fit(self, x: Interactions) -> None:
        r = x.matrix.astype(np.float64)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        mu, bu, bi = fit_biases(r, self.reg_user, self.reg_item)
        self.global_mean_, self.user_bias_, self.item_bias_ = mu, bu, bi
        if self.similarity == "adjusted_cosine":
            n_u = np.maximum(np.diff(r.indptr), 1)
            user_mean = np.bincount(rows, r.data, r.shape[0]) / n_u
            z = _with_values(r, r.data - user_mean[rows])
        else:
            z = _with_values(r, r.data - mu - bu[rows] - bi[r.indices])
        self.sim_ = cosine_on_support(z.T.tocsr(), self.shrinkage)
        self._build_residuals()

    def _build_residuals(self) -> None:
        r = self.train_.matrix.astype(np.float64)
        rows = np.repeat(np.arange(r.shape[0]), np.diff(r.indptr))
        self.item_center_ = self._item_center()
        centre = self.item_center_[r.indices]
        if self.center == "baseline":
            centre = centre + self.user_bias_[rows]
        self.resid_ = _with_values(r, r.data - centre)

    def _item_center(self) -> np.ndarray:
        if self.center == "baseline":
            return self.global_mean_ + self.item_bias_
        r = self.train_.matrix.tocsc()
        n = np.diff(r.indptr)
        sums = np.bincount(np.repeat(np.arange(r.shape[1]), n), r.data, r.shape[1])
        return np.where(n > 0, sums / np.maximum(n, 1), float(self.global_mean_))

    def _predict_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        avg, _ = neighbourhood_average(self.sim_, self.resid_, u, i, self.k, True)
        base = self.item_center_[i]
        if self.center == "baseline":
            base = base + self.user_bias_[u]
        return base + avg

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(arrays)
        self._build_residuals()
