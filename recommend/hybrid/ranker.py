"""The learned ranker: gradient-boosted trees (LightGBM) over each candidate's evidence.

Where a linear blend can only weigh components, trees learn interactions such as "a
session signal matters when the CF score is middling" or "trust popularity for users with
a short history". Per candidate, the design matrix holds for every component its per-user
normalised score, its raw score and its rank among the user's candidates, plus the user's
history size (log). The label is "the candidate was held out" (binary log-loss: on the
validation splits here it ranked as well as LambdaRank and fits faster). Shallow trees keep
serving cheap. The booster is saved as LightGBM's own text model (no pickle).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.atomic import atomic_write_text

if TYPE_CHECKING:
    import lightgbm

RANKER_FILE = "hybrid_ranker.txt"
ROUNDS = 200
#: The fewest candidates in a leaf of the trees.
MIN_DATA_IN_LEAF = 50
PARAMS: dict[str, object] = {
    "objective": "binary", "num_leaves": 3, "learning_rate": 0.1,
    "min_data_in_leaf": MIN_DATA_IN_LEAF,
    "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
    "verbose": -1, "num_threads": 1, "deterministic": True,
}
#: The fewest candidates trees are fitted on: below twice ``min_data_in_leaf`` no split is
#: possible (the booster would be a constant), and bagging may leave no row at all.
MIN_TREE_ROWS = 2 * MIN_DATA_IN_LEAF


def design_matrix(raw: np.ndarray, normalised: np.ndarray, rows: np.ndarray, n_rows: int,
                  history_sizes: np.ndarray, pool: np.ndarray | None = None) -> np.ndarray:
    """(candidates x 3C+1): normalised, raw, within-user rank (0 = best) per component, and
    log(1 + history size) of the candidate's user; ``rows`` are sorted. A rank counts the
    row's ``pool`` candidates (default: all) scoring higher, so candidates added outside
    the pool change no rank."""
    pool = np.ones(len(rows), bool) if pool is None else pool
    ranks = np.zeros_like(raw, dtype=np.float64)
    before_row = np.r_[0, np.cumsum(np.bincount(rows[pool], minlength=n_rows))][rows]
    for c in range(raw.shape[1]):
        order = np.lexsort((~pool, -raw[:, c], rows))  # pool first among equal scores
        pooled_before = np.cumsum(pool[order]) - pool[order]
        ranks[order, c] = pooled_before - before_row[order]
    return np.column_stack([normalised, raw, ranks, np.log1p(history_sizes[rows])])


def fit_booster(design: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> lightgbm.Booster:
    """Boosted trees predicting ``labels`` (held out or not) from ``design``."""
    import lightgbm

    params = {**PARAMS, "seed": seed}
    return lightgbm.train(params, lightgbm.Dataset(design, labels.astype(np.float64)), ROUNDS)


def booster_scores(booster: lightgbm.Booster, design: np.ndarray) -> np.ndarray:
    """The booster's raw margins (a monotone transform of its probabilities)."""
    return np.asarray(booster.predict(design, raw_score=True, num_threads=1), np.float64)


def booster_contributions(booster: lightgbm.Booster, design: np.ndarray,
                          n_components: int) -> np.ndarray:
    """(rows x components): each component's TreeSHAP contribution to the margin, summed over
    its normalised, raw and rank columns (the history size and the base value left out)."""
    contrib = np.asarray(booster.predict(design, pred_contrib=True, num_threads=1), np.float64)
    c = n_components
    return contrib[:, :c] + contrib[:, c:2 * c] + contrib[:, 2 * c:3 * c]


def save_booster(booster: lightgbm.Booster, folder: Path) -> Path:
    """Write the booster as LightGBM's text model."""
    atomic_write_text(folder / RANKER_FILE, booster.model_to_string())
    return folder / RANKER_FILE


def load_booster(folder: Path) -> lightgbm.Booster:
    """The booster :func:`save_booster` wrote (a clear error if it is missing)."""
    import lightgbm

    path = folder / RANKER_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the hybrid model's learned ranker is missing")
    return lightgbm.Booster(model_str=path.read_text(encoding="utf-8"))
