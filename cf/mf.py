"""Matrix factorisation for ratings: ``r̂_ui = μ + b_u + b_i + p_u·q_i`` with L2 penalties.

Two solvers. ``"sgd"``: Funk/Koren SGD, vectorised over shuffled mini-batches (gradients
of a batch are summed per row with ``np.add.at``). ``"als"``: alternating ridge
regressions, the bias folded in as an extra factor fixed to one on the other side
(regularisation weighted by each row's count, ALS-WR), batched per solve.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from cf.base import RatingRecommender
from cf.data import Interactions


class MatrixFactorization(RatingRecommender):
    """Biased MF for explicit ratings, trained by SGD or ALS."""

    def __init__(
        self,
        *,
        factors: int = 20,
        epochs: int = 10,
        solver: Literal["sgd", "als"] = "als",
        reg: float = 0.1,
        reg_bias: float = 0.01,
        lr: float = 0.01,
        batch_size: int = 64,
        init_scale: float = 0.1,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.solver = solver
        self.reg = reg
        self.reg_bias = reg_bias
        self.lr = lr
        self.batch_size = batch_size
        self.init_scale = init_scale
        self.seed = seed

    def _fit(self, x: Interactions) -> None:
        r = x.matrix.tocoo()
        rng = np.random.default_rng(self.seed)
        n_u, n_i = x.shape
        self.global_mean_ = float(r.data.mean()) if r.nnz else 0.0
        self.user_factors_ = rng.normal(0, self.init_scale, (n_u, self.factors))
        self.item_factors_ = rng.normal(0, self.init_scale, (n_i, self.factors))
        self.user_bias_ = np.zeros(n_u)
        self.item_bias_ = np.zeros(n_i)
        if self.solver == "sgd":
            self._sgd(r.row.astype(np.int64), r.col.astype(np.int64), r.data, rng)
        else:
            self._als(x.matrix)

    def _sgd(self, u: np.ndarray, i: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
        mu, lr, reg, rb = self.global_mean_, self.lr, self.reg, self.reg_bias
        p, q, bu, bi = self.user_factors_, self.item_factors_, self.user_bias_, self.item_bias_
        for _ in range(self.epochs):
            order = rng.permutation(len(y))
            for s in range(0, len(order), self.batch_size):
                b = order[s : s + self.batch_size]
                ub, ib = u[b], i[b]
                pu, qi = p[ub], q[ib]
                err = y[b] - (mu + bu[ub] + bi[ib] + np.einsum("ij,ij->i", pu, qi))
                np.add.at(bu, ub, lr * (err - rb * bu[ub]))
                np.add.at(bi, ib, lr * (err - rb * bi[ib]))
                np.add.at(p, ub, lr * (err[:, None] * qi - reg * pu))
                np.add.at(q, ib, lr * (err[:, None] * pu - reg * qi))

    def _als(self, r: sp.csr_matrix) -> None:
        rc = r.tocsc()
        for _ in range(self.epochs):
            # users: solve [p_u, b_u] against [q_i, 1] on targets r - mu - b_i
            self.user_factors_, self.user_bias_ = _ridge_rows(
                r, self.item_factors_, self.item_bias_, self.global_mean_, self.reg, self.reg_bias
            )
            self.item_factors_, self.item_bias_ = _ridge_rows(
                rc.T.tocsr(),
                self.user_factors_,
                self.user_bias_,
                self.global_mean_,
                self.reg,
                self.reg_bias,
            )
        del rc

    def _predict_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:
        dot = np.einsum("ij,ij->i", self.user_factors_[u], self.item_factors_[i])
        return self.global_mean_ + self.user_bias_[u] + self.item_bias_[i] + dot

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        s = self.user_factors_[rows] @ self.item_factors_.T
        return s + self.global_mean_ + self.user_bias_[rows, None] + self.item_bias_[None, :]


def _ridge_rows(
    r: sp.csr_matrix, other: np.ndarray, other_bias: np.ndarray, mu: float, reg: float, rb: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: argmin Σ (r − μ − b_other − [x, b]·[y, 1])² + reg·n·|x|² + rb·n·b²."""
    n_rows, f = r.shape[0], other.shape[1]
    y = np.hstack([other, np.ones((other.shape[0], 1))])
    counts = np.diff(r.indptr)
    target = r.copy().astype(np.float64)
    target.data = r.data - mu - other_bias[r.indices]
    rhs = target @ y
    # Gram per row Σ_i y_i y_iᵀ as one sparse × dense product over flattened outer products.
    ones = target.copy()
    ones.data[:] = 1.0
    gram = (ones @ np.einsum("ij,ik->ijk", y, y).reshape(len(y), -1)).reshape(n_rows, f + 1, f + 1)
    penalty = np.r_[np.full(f, reg), rb]
    gram += (np.maximum(counts, 1)[:, None] * penalty)[:, :, None] * np.eye(f + 1)
    sol = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
    return sol[:, :f], sol[:, f]
