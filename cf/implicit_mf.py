"""Implicit-feedback factor models for ranking: weighted ALS and BPR.

``WeightedALS`` (Hu, Koren, Volinsky 2008): minimise Σ c_ui (p_ui − x_u·y_i)² + λ(|x|² + |y|²)
over *all* cells, with preference p = 1 on observed cells, confidence c = 1 + α·value
there and 1 elsewhere. Each half-step solves every row's system
``(YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p_u`` by a few conjugate-gradient steps, warm
started and batched over all rows at once (the same scheme as implicit's CPU solver).
:meth:`WeightedALS.score_history` folds a fresh history in: it solves that user's system
exactly for the fitted item factors (implicit's ``recalculate_user``), and
:meth:`WeightedALS.explain` splits that score exactly over the history's items.

``BPR`` (Rendle et al. 2009): SGD on −ln σ(x̂_ui − x̂_uj) over (user, seen, unseen)
triples sampled uniformly, vectorised over mini-batches, with item biases.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp

from cf.base import HistoryRecommender, Recommender
from cf.data import Interactions


def _cg_solve(c: Any, cm1: Any, x: Any, y: Any, reg: float, steps: int) -> Any:
    """A few batched CG steps on every row's confidence-weighted ridge system (torch).

    ``c`` is a torch CSR tensor of confidences, ``cm1`` its values minus one. Only the
    observed cells' dot products are computed (``sampled_addmm``): O(nnz · f) per product.
    """
    import torch

    crow, col = c.crow_indices(), c.col_indices()
    yty = y.T @ y + reg * torch.eye(y.shape[1], dtype=y.dtype)
    y_t = y.T.contiguous()

    def matvec(v: Any) -> Any:
        dots = torch.sparse.sampled_addmm(c, v, y_t, beta=0.0).values()
        w = torch.sparse_csr_tensor(crow, col, cm1 * dots, c.shape, check_invariants=False)
        return v @ yty + w @ y

    r = c @ y - matvec(x)  # Yᵀ C_u p_u with p = 1 on observed cells, minus A x
    p = r.clone()
    rs = (r * r).sum(dim=1)
    for _ in range(steps):
        ap = matvec(p)
        denom = (p * ap).sum(dim=1)
        alpha = torch.where(denom > 1e-20, rs / denom.clamp_min(1e-20), torch.zeros_like(rs))
        x = x + alpha[:, None] * p
        r = r - alpha[:, None] * ap
        rs_new = (r * r).sum(dim=1)
        beta = torch.where(rs > 1e-20, rs_new / rs.clamp_min(1e-20), torch.zeros_like(rs))
        p = r + beta[:, None] * p
        rs = rs_new
    return x


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one intra-op thread inside the block (its previous count restored after).

    The solver's sparse products are small: with torch's default two threads on a busy
    2-core machine (load 11), one ALS fit on ML-100K took 11-20 s wall and 2-8 s CPU,
    against 0.4 s wall and 0.15 s CPU on one thread (the threads wait on each other).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _torch_csr(m: sp.csr_matrix) -> Any:
    import torch

    return torch.sparse_csr_tensor(
        torch.from_numpy(m.indptr.astype(np.int64)),
        torch.from_numpy(m.indices.astype(np.int64)),
        torch.from_numpy(m.data),
        m.shape,
        check_invariants=False,
    )


def _cg_half_step(
    c: sp.csr_matrix, x: np.ndarray, y: np.ndarray, reg: float, steps: int
) -> np.ndarray:
    """:func:`_cg_solve` on numpy / scipy inputs."""
    import torch

    dtype = np.result_type(x, y)
    with warnings.catch_warnings(), one_torch_thread():  # torch: sparse CSR is beta
        warnings.simplefilter("ignore", UserWarning)
        tc = _torch_csr(c.astype(dtype))
        tx, ty = torch.from_numpy(x.astype(dtype)), torch.from_numpy(y.astype(dtype))
        return _cg_solve(tc, tc.values() - 1.0, tx, ty, reg, steps).numpy()


class WeightedALS(HistoryRecommender):
    """Confidence-weighted ALS for implicit feedback (conjugate-gradient solver).

    An observed value ``r`` gets confidence ``offset + alpha * r`` (Hu, Koren & Volinsky:
    offset 1; the ``implicit`` library's convention is offset 0, where values below
    ``1 / alpha`` weigh less than a missing cell), every missing cell confidence 1.
    """

    def __init__(
        self,
        *,
        factors: int = 64,
        iterations: int = 15,
        reg: float = 0.01,
        alpha: float = 1.0,
        offset: float = 1.0,
        cg_steps: int = 3,
        init_scale: float = 0.01,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.iterations = iterations
        self.reg = reg
        self.alpha = alpha
        self.offset = offset
        self.cg_steps = cg_steps
        self.init_scale = init_scale
        self.seed = seed

    def _fit(self, x: Interactions) -> None:
        import torch

        rng = np.random.default_rng(self.seed)
        c = x.matrix.astype(np.float32)
        c.data = self.offset + self.alpha * c.data
        u = torch.from_numpy(
            rng.normal(0, self.init_scale, (x.n_users, self.factors)).astype(np.float32)
        )
        v = torch.from_numpy(
            rng.normal(0, self.init_scale, (x.n_items, self.factors)).astype(np.float32)
        )
        with warnings.catch_warnings(), one_torch_thread():  # torch: sparse CSR is beta
            warnings.simplefilter("ignore", UserWarning)
            tc, tct = _torch_csr(c), _torch_csr(c.T.tocsr())
            cm1, cm1_t = tc.values() - 1.0, tct.values() - 1.0
            for _ in range(self.iterations):
                u = _cg_solve(tc, cm1, u, v, self.reg, self.cg_steps)
                v = _cg_solve(tct, cm1_t, v, u, self.reg, self.cg_steps)
        self.user_factors_, self.item_factors_ = u.numpy(), v.numpy()

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T

    def _gram(self) -> tuple[np.ndarray, np.ndarray]:
        """The item factors in float64 and ``YᵀY + λI``, kept while the factors are the same
        array (a refit or load makes new ones)."""
        kept = getattr(self, "_gram_of", None)
        if kept is None or kept[0] is not self.item_factors_:
            y = self.item_factors_.astype(np.float64)
            kept = (self.item_factors_, y, y.T @ y + self.reg * np.eye(y.shape[1]))
            self._gram_of = kept
        return kept[1], kept[2]

    def _user_system(self, values: np.ndarray, yh: np.ndarray, yty: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """One history's ``YᵀC_uY + λI`` and the confidences ``c_uj`` of its items (values
        ``values``, factors ``yh``; ``yty``: ``YᵀY + λI``)."""
        conf = self.offset + self.alpha * values.astype(np.float64)
        return yty + (yh.T * (conf - 1.0)) @ yh, conf

    def fold_in(self, history: sp.csr_matrix) -> np.ndarray:
        """User factors of each history row: ``(YᵀC_uY + λI) x_u = YᵀC_u p_u`` solved exactly."""
        y, yty = self._gram()
        out = np.zeros((history.shape[0], y.shape[1]))
        for row in range(history.shape[0]):
            lo, hi = history.indptr[row], history.indptr[row + 1]
            if lo == hi:
                continue
            yh = y[history.indices[lo:hi]]
            a, conf = self._user_system(history.data[lo:hi], yh, yty)
            out[row] = np.linalg.solve(a, yh.T @ conf)
        return out

    def explain(self, history: sp.spmatrix | sp.sparray, items: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """How one history's folded-in score of ``items`` splits over the history's items
        (Hu, Koren & Volinsky 2008, section 5; implicit's ``ALS.explain``): the history's
        item columns ``j`` (ascending) and the ``(len(j), len(items))`` terms
        ``(y_iᵀ W_u y_j) c_uj``, ``W_u = (YᵀC_uY + λI)⁻¹``. Each item's terms sum to
        :meth:`score_history`'s score of it (``x_u = W_u YᵀC_u p_u``, p = 1 on the history).
        The user's system is factored once, for every item."""
        j, terms, _ = self.explain_removals(history, items)
        return j, terms

    def explain_removals(self, history: sp.spmatrix | sp.sparray, items: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`explain`, and per history item ``j`` whether taking it out of the history
        moves every item's score the way its term points (down for a positive term). Taking
        ``j`` out moves item i's score by ``s_ij (c_uj - (c_uj - 1) p_uj) / (1 - (c_uj - 1)
        y_jᵀ W_u y_j)`` (Sherman-Morrison; ``s_ij c_uj`` the term, ``p_uj = x_u·y_j``, the
        denominator positive): it agrees unless the model predicts j above
        ``c_uj / (c_uj - 1)``. The user's system is factored once for both."""
        h = self.checked_history(history)
        if h.shape[0] != 1:
            raise ValueError(f"explain takes one history row, not {h.shape[0]}")
        items = np.asarray(items, np.int64)
        if items.size and (items.min() < 0 or items.max() >= self.train_.n_items):
            raise ValueError(f"items must be columns 0..{self.train_.n_items - 1}")
        if not h.nnz:
            return h.indices, np.zeros((0, len(items))), np.zeros(0, bool)
        from scipy.linalg import get_lapack_funcs, lu_factor

        y, yty = self._gram()
        yh = y[h.indices]
        a, conf = self._user_system(h.data, yh, yty)
        lu, piv = lu_factor(a, check_finite=False)
        # LAPACK's getrs, which scipy's lu_solve calls (the same bits, without its ~5 us of
        # checks per call)
        getrs = get_lapack_funcs("getrs", (lu, y))
        terms = np.empty((len(yh), len(items)))
        for col, i in enumerate(items.tolist()):  # W_u y_i one item at a time: an item's
            # terms are the same bits whatever else is asked with it
            terms[:, col] = yh @ getrs(lu, piv, y[i])[0]
        terms *= conf[:, None]
        x = getrs(lu, piv, yh.T @ conf)[0]  # x_u = W_u Yᵀ C_u p_u
        return h.indices, terms, conf - (conf - 1.0) * (yh @ x) > 0

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        return self.fold_in(history) @ self.item_factors_.T


class BPR(Recommender):
    """Bayesian personalised ranking matrix factorisation with item biases."""

    def __init__(
        self,
        *,
        factors: int = 64,
        epochs: int = 30,
        lr: float = 0.05,
        reg: float = 0.001,
        batch_size: int = 256,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.epochs = epochs
        self.lr = lr
        self.reg = reg
        self.batch_size = batch_size
        self.seed = seed

    def _fit(self, x: Interactions) -> None:
        rng = np.random.default_rng(self.seed)
        m = x.binary()
        coo = m.tocoo()
        users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
        p = rng.normal(0, 0.1, (x.n_users, self.factors))
        q = rng.normal(0, 0.1, (x.n_items, self.factors))
        bias = np.zeros(x.n_items)
        keys = np.unique(users * x.n_items + items)
        for _ in range(self.epochs):
            order = rng.permutation(len(users))
            for s in range(0, len(order), self.batch_size):
                b = order[s : s + self.batch_size]
                u, i = users[b], items[b]
                j = rng.integers(0, x.n_items, len(b))
                pos = np.searchsorted(keys, u * x.n_items + j)
                clash = keys[np.minimum(pos, len(keys) - 1)] == u * x.n_items + j
                keep = ~clash
                u, i, j = u[keep], i[keep], j[keep]
                pu, qi, qj = p[u], q[i], q[j]
                diff = bias[i] - bias[j] + np.einsum("ij,ij->i", pu, qi - qj)
                g = 1.0 / (1.0 + np.exp(np.clip(diff, -30, 30)))  # σ(−diff)
                lr, reg = self.lr, self.reg
                np.add.at(p, u, lr * (g[:, None] * (qi - qj) - reg * pu))
                np.add.at(q, i, lr * (g[:, None] * pu - reg * qi))
                np.add.at(q, j, lr * (-g[:, None] * pu - reg * qj))
                np.add.at(bias, i, lr * (g - reg * bias[i]))
                np.add.at(bias, j, lr * (-g - reg * bias[j]))
        self.user_factors_, self.item_factors_, self.item_bias_ = p, q, bias

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self.user_factors_[rows] @ self.item_factors_.T + self.item_bias_
