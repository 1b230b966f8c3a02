"""The harness every model goes through: a split becomes a task, a model's output metrics.

Our models and peer adapters both produce the same things, a matrix of recommended item
indices in the task's item order, or predicted ratings for the test rows; the same
functions score them. Fit and recommend are timed with ``time.perf_counter``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from cf.base import RatingRecommender, Recommender
from cf.data import Interactions
from recommend.evaluate import metrics as m
from recommend.evaluate.protocols import Rows, Split


@dataclass(frozen=True)
class RankingTask:
    """Train interactions, the relevant test items (CSR, same index space), evaluated rows."""

    train: Interactions
    test: sp.csr_matrix
    users: np.ndarray  # row indices of users with at least one test item


@dataclass(frozen=True)
class RatingTask:
    """Train ratings and the test pairs as indices of ``train`` plus their true ratings."""

    train: Interactions
    user_index: np.ndarray
    item_index: np.ndarray
    truth: np.ndarray


@dataclass
class Result:
    """One model's figures on one task."""

    model: str
    metrics: dict[str, float]
    fit_seconds: float
    predict_seconds: float
    params: dict[str, Any] = field(default_factory=dict)


def interactions_from_rows(
    rows: Rows,
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    values: Literal["rating", "binary"] = "rating",
) -> Interactions:
    """Interactions over a fixed id universe, with timestamps."""
    vals = rows.rating if values == "rating" else np.ones(len(rows))
    return Interactions.from_arrays(
        rows.user, rows.item, vals, rows.ts, user_ids=user_ids, item_ids=item_ids
    )


def _universe(split: Split) -> tuple[np.ndarray, np.ndarray]:
    users = np.unique(np.r_[split.train.user, split.test.user])
    items = np.unique(np.r_[split.train.item, split.test.item])
    return users, items


def ranking_task(split: Split, values: Literal["rating", "binary"] = "binary") -> RankingTask:
    """Task of the ranking protocol: candidates are all items minus the user's train items."""
    users, items = _universe(split)
    train = interactions_from_rows(split.train, users, items, values)
    test = interactions_from_rows(split.test, users, items, "binary").matrix
    eval_rows = np.flatnonzero(np.diff(test.indptr) > 0)
    return RankingTask(train, test, eval_rows)


def rating_task(split: Split) -> RatingTask:
    """Task of the rating protocol (ids outside train map to -1: the model's fallback)."""
    users, items = _universe(split)
    train = interactions_from_rows(split.train, users, items, "rating")
    return RatingTask(
        train,
        train.user_index(split.test.user),
        train.item_index(split.test.item),
        split.test.rating,
    )


def ranking_metrics(
    recs: np.ndarray, task: RankingTask, ks: tuple[int, ...] = (10, 20)
) -> dict[str, float]:
    """P, R, NDCG, HR at each k, MAP@10, coverage@10 and mean popularity@10."""
    rel = task.test[task.users]
    out: dict[str, float] = {}
    for k in ks:
        out[f"P@{k}"] = m.precision_at_k(recs, rel, k)
        out[f"R@{k}"] = m.recall_at_k(recs, rel, k)
        out[f"NDCG@{k}"] = m.ndcg_at_k(recs, rel, k)
        out[f"HR@{k}"] = m.hit_rate_at_k(recs, rel, k)
    pop = np.asarray(task.train.binary().sum(axis=0)).ravel()
    out["MAP@10"] = m.map_at_k(recs, rel, 10)
    out["coverage@10"] = m.catalogue_coverage(recs, task.train.n_items, 10)
    out["mean_pop@10"] = m.mean_popularity(recs, pop, 10)
    return out


def rating_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """RMSE and MAE."""
    return {"RMSE": m.rmse(pred, truth), "MAE": m.mae(pred, truth)}


def run_ranking(
    name: str,
    fit: Callable[[RankingTask], object],
    recommend: Callable[[RankingTask, int], np.ndarray],
    task: RankingTask,
    k: int = 20,
    params: dict[str, Any] | None = None,
) -> Result:
    """Time ``fit(task)`` and ``recommend(task, k)`` (item indices per evaluated user)."""
    t0 = time.perf_counter()
    fit(task)
    t1 = time.perf_counter()
    recs = recommend(task, k)
    t2 = time.perf_counter()
    return Result(name, ranking_metrics(recs, task), t1 - t0, t2 - t1, params or {})


def run_rating(
    name: str,
    fit: Callable[[RatingTask], object],
    predict: Callable[[RatingTask], np.ndarray],
    task: RatingTask,
    params: dict[str, Any] | None = None,
) -> Result:
    """Time ``fit(task)`` and ``predict(task)`` (one rating per test row)."""
    t0 = time.perf_counter()
    fit(task)
    t1 = time.perf_counter()
    pred = predict(task)
    t2 = time.perf_counter()
    return Result(name, rating_metrics(pred, task.truth), t1 - t0, t2 - t1, params or {})


def run_our_ranking(name: str, model: Recommender, task: RankingTask, k: int = 20) -> Result:
    """:func:`run_ranking` for a :mod:`cf` model."""
    return run_ranking(
        name,
        lambda t: model.fit(t.train),
        lambda t, kk: model.recommend_rows(t.users, k=kk).item_indices,
        task,
        k,
        model.get_params(),
    )


def run_our_rating(name: str, model: RatingRecommender, task: RatingTask) -> Result:
    """:func:`run_rating` for a :mod:`cf` rating model."""
    return run_rating(
        name,
        lambda t: model.fit(t.train),
        lambda t: model.predict_indices(t.user_index, t.item_index).ratings,
        task,
        model.get_params(),
    )
