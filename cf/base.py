"""The recommender contract every :mod:`cf` model implements (STYLE.md habit 1).

``fit(interactions) -> self``; ``score(users, items)``; batch-first
``recommend(users, k, exclude_seen)`` returning :class:`Recommendations`. A subclass
only writes ``_fit(x)`` and ``_scores(rows) -> dense (len(rows), n_items)``. Users never
seen in fit get the most popular items, reported as such in ``reasons`` (Surprise's
``was_impossible`` spirit), never an exception. Rating models add ``predict``;
history models (:class:`HistoryRecommender`) add ``score_history``, the scores of a
history row never seen in fit (implicit's ``user_items``).
Saved state is a ``.npz`` (``allow_pickle=False``) of every learned array; a learned
CSR matrix is saved as its three arrays and shape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from cf.data import Interactions

MODEL_REASON = "model"
UNKNOWN_USER_REASON = "unknown user: popularity fallback"
_CHUNK = 2048
_CSR_PARTS = ("data", "indices", "indptr", "shape")


@dataclass(frozen=True)
class Recommendations:
    """Top-k per user. Rows are padded with index -1 / score NaN when fewer items remain."""

    users: np.ndarray
    item_indices: np.ndarray  # (n_users, k) int, -1 = padding
    item_ids: list[np.ndarray]  # raw ids per user (no padding)
    scores: np.ndarray  # (n_users, k) float, NaN = padding
    reasons: tuple[str, ...]  # MODEL_REASON or the fallback used


@dataclass(frozen=True)
class RatingPredictions:
    """Predicted ratings; ``was_impossible`` marks pairs that fell back to a baseline."""

    ratings: np.ndarray
    was_impossible: np.ndarray
    reasons: tuple[str, ...]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest finite scores per row, best first."""
    n, m = scores.shape
    k = min(k, m)
    if k == 0:
        return np.zeros((n, 0), np.int64), np.zeros((n, 0))
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1)
    vals = np.take_along_axis(vals, order, axis=1)
    bad = ~np.isfinite(vals)
    idx[bad] = -1
    vals = vals.astype(np.float64)
    vals[bad] = np.nan
    return idx.astype(np.int64), vals


class Recommender:
    """Base class: id handling, seen-item masking, cold-start fallback, save/load."""

    train_: Interactions
    popularity_: np.ndarray

    # -- to implement -------------------------------------------------------------
    def _fit(self, x: Interactions) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public contract ----------------------------------------------------------
    def fit(self, interactions: Interactions) -> Recommender:
        """Learn from ``interactions``; returns ``self``."""
        self.train_ = interactions
        self.popularity_ = np.asarray(interactions.binary().sum(axis=0)).ravel()
        self._fit(interactions)
        return self

    def score(self, users: Sequence[object], items: Sequence[object]) -> np.ndarray:
        """Scores of ``items`` for each of ``users``: shape (len(users), len(items)).

        An unknown user's row or unknown item's column is NaN.
        """
        rows = self.train_.user_index(users)
        cols = self.train_.item_index(items)
        out = np.full((len(rows), len(cols)), np.nan)
        known_r, known_c = rows >= 0, cols >= 0
        if known_r.any() and known_c.any():
            full = self.score_rows(rows[known_r])
            out[np.ix_(known_r, known_c)] = full[:, cols[known_c]]
        return out

    def score_rows(self, rows: np.ndarray) -> np.ndarray:
        """Dense scores of every item for known user rows (chunked)."""
        rows = np.asarray(rows, np.int64)
        parts = [
            np.asarray(self._scores(rows[s : s + _CHUNK]), np.float64)
            for s in range(0, len(rows), _CHUNK)
        ]
        if len(parts) == 1:  # (a request) the one block as it is, not copied by vstack
            return parts[0]
        return np.vstack(parts) if parts else np.zeros((0, self.train_.n_items))

    def recommend(
        self, users: Sequence[object], k: int = 10, exclude_seen: bool = True
    ) -> Recommendations:
        """Top-``k`` items for each user (raw ids); unknown users get popular items."""
        rows = self.train_.user_index(users)
        return self.recommend_rows(rows, k=k, exclude_seen=exclude_seen, users=np.asarray(users))

    def recommend_rows(
        self,
        rows: np.ndarray,
        k: int = 10,
        exclude_seen: bool = True,
        users: np.ndarray | None = None,
    ) -> Recommendations:
        """:meth:`recommend` on row indices (-1 = unknown user)."""
        rows = np.asarray(rows, np.int64)
        n_items = self.train_.n_items
        k_eff = min(k, n_items)
        idx = np.full((len(rows), k_eff), -1, np.int64)
        vals = np.full((len(rows), k_eff), np.nan)
        seen = self.train_.matrix
        for s in range(0, len(rows), _CHUNK):
            chunk = rows[s : s + _CHUNK]
            known = chunk >= 0
            block = np.empty((len(chunk), n_items))
            if known.any():
                block[known] = self.score_rows(chunk[known])
            block[~known] = self.popularity_
            block[~np.isfinite(block)] = -np.inf
            if exclude_seen and known.any():
                sub = seen[chunk[known]]
                kr = np.flatnonzero(known)
                block[kr[np.repeat(np.arange(len(kr)), np.diff(sub.indptr))], sub.indices] = -np.inf
            idx[s : s + len(chunk)], vals[s : s + len(chunk)] = top_k(block, k_eff)
        reasons = tuple(MODEL_REASON if r >= 0 else UNKNOWN_USER_REASON for r in rows)
        ids = [self.train_.item_ids[row[row >= 0]] for row in idx]
        return Recommendations(
            users=rows if users is None else users,
            item_indices=idx,
            item_ids=ids,
            scores=vals,
            reasons=reasons,
        )

    # -- persistence ----------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword hyper-parameters."""
        import inspect

        names = inspect.signature(type(self).__init__).parameters
        return {n: getattr(self, n) for n in names if n != "self"}

    def _state(self) -> dict[str, np.ndarray | sp.csr_matrix]:
        kinds = (np.ndarray, np.generic, float, int)
        return {
            k: v if isinstance(v, sp.csr_matrix) else np.asarray(v)
            for k, v in vars(self).items()
            if k.endswith("_") and isinstance(v, (*kinds, sp.csr_matrix))
        }

    def _set_state(self, arrays: dict[str, np.ndarray | sp.csr_matrix]) -> None:
        for key, value in arrays.items():
            setattr(self, key, value)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write hyper-parameters, training data and learned arrays to one ``.npz``."""
        import io

        from kg.atomic import atomic_write_bytes

        x = self.train_
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps({"class": type(self).__name__, **self.get_params()})),
            "x_indptr": x.matrix.indptr,
            "x_indices": x.matrix.indices,
            "x_data": x.matrix.data,
            "x_user_ids": _ids_array(x.user_ids),
            "x_item_ids": _ids_array(x.item_ids),
        }
        if x.timestamps is not None:
            arrays["x_ts"] = x.timestamps.data
        for key, value in self._state().items():
            if isinstance(value, sp.csr_matrix):
                for part in _CSR_PARTS:
                    arrays[f"csr:{key}:{part}"] = np.asarray(getattr(value, part))
            else:
                arrays[f"state:{key}"] = value
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recommender:
        """Load what :meth:`save` wrote (the class must match); every array is checked
        before use (:mod:`kg.arrays`: CSR structure, finite learned values, so a tampered
        file is an ArtifactError naming it, never a crash in scipy; a learned CSR matrix
        is checked the same way)."""
        from kg.arrays import check_csr, check_finite, load_arrays

        z = load_arrays(path, {"meta": ("str", 0), "x_indptr": ("int", 1),
                               "x_indices": ("int", 1), "x_data": ("number", 1),
                               "x_user_ids": ("id", 1), "x_item_ids": ("id", 1)})
        meta = json.loads(str(z["meta"]))
        name = meta.pop("class")
        if name != cls.__name__:
            raise ValueError(f"{path}: saved model is {name}, not {cls.__name__}")
        uids, iids = z["x_user_ids"], z["x_item_ids"]
        shape = (len(uids), len(iids))
        check_csr(z["x_indptr"], z["x_indices"], len(z["x_data"]), shape, f"{path}: x")
        check_finite(z["x_data"], f"{path}: x_data")
        mat = sp.csr_matrix((z["x_data"], z["x_indices"], z["x_indptr"]), shape=shape)
        ts = None
        if "x_ts" in z:
            if z["x_ts"].shape != z["x_data"].shape:
                raise ValueError(f"{path}: x_ts has shape {z['x_ts'].shape}, "
                                 f"x_data {z['x_data'].shape}")
            ts = sp.csr_matrix((z["x_ts"], z["x_indices"], z["x_indptr"]), shape=shape)
        state: dict[str, np.ndarray | sp.csr_matrix] = {
            k.split(":", 1)[1]: v for k, v in z.items() if k.startswith("state:")}
        for key, value in state.items():
            check_finite(value, f"{path}: {key}")
        for key in {k.split(":")[1] for k in z if k.startswith("csr:")}:
            data, indices, indptr, dims = (z[f"csr:{key}:{part}"] for part in _CSR_PARTS)
            csr_shape = tuple(int(d) for d in np.asarray(dims).ravel())
            if len(csr_shape) != 2:
                raise ValueError(f"{path}: {key} has shape {csr_shape}, expected 2 dimensions")
            check_csr(indptr, indices, len(data), csr_shape, f"{path}: {key}")
            check_finite(data, f"{path}: {key}")
            state[key] = sp.csr_matrix((data, indices, indptr), shape=csr_shape)
        model = cls(**meta)
        model.train_ = Interactions(mat, uids, iids, ts)
        model.popularity_ = np.asarray(model.train_.binary().sum(axis=0)).ravel()
        model._set_state(state)
        return model


def _ids_array(ids: np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    return arr if arr.dtype.kind in "iuf" else arr.astype(str)


class RatingRecommender(Recommender):
    """A model that predicts ratings; ``_predict_pairs(u, i)`` for known indices."""

    global_mean_: float

    def _predict_pairs(self, u: np.ndarray, i: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def predict(self, users: Sequence[object], items: Sequence[object]) -> RatingPredictions:
        """Predicted rating of each (user, item) pair; unknowns get the global mean."""
        u = self.train_.user_index(users)
        i = self.train_.item_index(items)
        return self.predict_indices(u, i)

    def predict_indices(self, u: np.ndarray, i: np.ndarray) -> RatingPredictions:
        """:meth:`predict` on indices (-1 = unknown)."""
        u, i = np.asarray(u, np.int64), np.asarray(i, np.int64)
        ok = (u >= 0) & (i >= 0)
        out = np.full(len(u), float(self.global_mean_))
        if ok.any():
            out[ok] = self._predict_pairs(u[ok], i[ok])
        lo, hi = float(self.train_.matrix.data.min()), float(self.train_.matrix.data.max())
        out = np.clip(out, lo, hi)
        reasons = tuple(
            MODEL_REASON
            if good
            else ("unknown user" if uu < 0 else "unknown item") + ": global mean"
            for good, uu in zip(ok.tolist(), u.tolist(), strict=True)
        )
        return RatingPredictions(ratings=out, was_impossible=~ok, reasons=reasons)


class HistoryRecommender(Recommender):
    """A model that scores any history row, seen in fit or not: implicit's ``user_items``.

    A subclass writes ``_score_history(h)`` for a validated CSR ``h`` (users × the training
    items, values as :meth:`history_rows` gives them); ``_scores(rows)`` defaults to scoring
    the training users' own history rows.
    """

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def history_rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """The training users' histories in the form :meth:`score_history` takes."""
        return self.train_.matrix[np.asarray(rows, np.int64)]

    def score_history(self, history: sp.spmatrix | sp.sparray) -> np.ndarray:
        """Dense scores (n_rows, n_items) of histories given as a sparse users × items matrix.

        Columns are the training items in order; a wrong width or a NaN/inf value is an error.
        """
        return self.score_checked(self.checked_history(history))

    def score_checked(self, history: sp.csr_matrix) -> np.ndarray:
        """:meth:`score_history` of histories already in :meth:`checked_history`'s form (rows
        of a matrix it returned are too), not checked again: a caller scoring its own checked
        histories once per request."""
        if history.shape[0] <= _CHUNK:
            return np.asarray(self._score_history(history), np.float64)
        return np.vstack([
            np.asarray(self._score_history(history[s : s + _CHUNK]), np.float64)
            for s in range(0, history.shape[0], _CHUNK)
        ])

    def checked_history(self, history: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
        """``history`` as a canonical CSR over the training items (a repeated cell summed, on
        a copy); not sparse, a wrong width or a NaN/inf value is an error."""
        if not sp.issparse(history):
            raise TypeError(f"history must be a scipy sparse matrix, not {type(history).__name__}")
        h = sp.csr_matrix(history)
        if not h.has_canonical_format:  # repeated (user, item) cells are summed, on a copy
            h = h.copy()
            h.sum_duplicates()
        n_items = self.train_.n_items
        if h.shape[1] != n_items:
            raise ValueError(f"history has {h.shape[1]} item columns; the model has {n_items}")
        if not np.all(np.isfinite(h.data)):
            raise ValueError("history values must be finite (NaN/inf found)")
        return h

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return self.score_history(self.history_rows(rows))
