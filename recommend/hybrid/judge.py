"""How a ranking of validation candidates is judged, on one validation split or on two.

The build cannot know whether its user will judge it on the latest interactions (what
comes next) or on interactions drawn at random (what else they like), so with usable
timestamps it validates on a split of each kind (:mod:`recommend.hybrid.split`), its
candidates stacked: each row of the validation matrices is one user in one split
(``part_of_row``). Averaging NDCG over both lets a blend buy a large gain on one with a loss
on the other; on ML-100K that blend beat every component on the mix but lost 3% to a plain
EASE on a random hold-out. So a ranking is judged on each split apart, as its NDCG@k over
the best single component's on that split; its value is the worse of those ratios. What
serves is then as good as every component on both kinds of hold-out, where any ranker can
be.

With one split the value is plain NDCG@k.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recommend.evaluate.metrics import ndcg_at_k


def top_k_rows(scores: np.ndarray, rows: np.ndarray, items: np.ndarray, n_rows: int,
               k: int) -> np.ndarray:
    """(n_rows, k) item indices of each row's best ``k`` candidates (-1 pads), best first."""
    counts = np.bincount(rows, minlength=n_rows)
    width = max(int(counts.max(initial=0)), 1)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    pos = np.arange(len(rows)) - np.repeat(starts, counts)
    pad = np.full((n_rows, width), len(rows), np.int64)
    pad[rows, pos] = np.arange(len(rows))
    s = np.r_[scores, -np.inf][pad]
    it = np.r_[items, -1][pad]
    kk = min(k, width)
    part = np.argpartition(-s, kk - 1, axis=1)[:, :kk]
    order = np.argsort(-np.take_along_axis(s, part, axis=1), axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1)
    out = np.take_along_axis(it, part, axis=1)
    return np.where(np.isfinite(np.take_along_axis(s, part, axis=1)), out, -1)


def ndcg_of_scores(scores: np.ndarray, rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix,
          k: int, only: np.ndarray | None = None) -> float:
    """Mean NDCG@k over all rows of ``relevant`` (or the rows where ``only`` is True)."""
    recs = top_k_rows(scores, rows, items, relevant.shape[0], k)
    if only is not None:
        return ndcg_at_k(recs[only], relevant[np.flatnonzero(only)], k)
    return ndcg_at_k(recs, relevant, k)


#: Scores of the candidates -> how good their ranking is (higher is better).
Objective = Callable[[np.ndarray], float]


def rows_only(m: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``m`` with the rows not in ``keep`` emptied (same shape)."""
    return (sp.diags(keep.astype(np.float64)) @ m).tocsr()


def objective(features: np.ndarray, rows: np.ndarray, items: np.ndarray,
              relevant: sp.csr_matrix, k: int, only: np.ndarray | None = None,
              part_of_row: np.ndarray | None = None) -> Objective:
    """The judge of rankings of these candidates (module docstring). ``features`` are the
    components' normalised scores (the reference on each split is the best column's
    NDCG@k); ``part_of_row`` gives each row of ``relevant`` its split (None: one split);
    ``only`` restricts the means to those rows."""
    masks = _part_masks(relevant.shape[0], only, part_of_row)
    if len(masks) == 1:
        return lambda scores: ndcg_of_scores(scores, rows, items, relevant, k, only)
    judged: list[tuple[np.ndarray, np.ndarray, float]] = []
    for mask in masks:
        keep = mask[rows]
        ref = max((ndcg_of_scores(features[keep, j], rows[keep], items[keep], relevant, k,
                                  mask) for j in range(features.shape[1])), default=0.0)
        if ref > 0:
            judged.append((keep, mask, ref))

    def value(scores: np.ndarray) -> float:
        if not judged:
            return 0.0
        return min(ndcg_of_scores(scores[keep], rows[keep], items[keep], relevant, k, mask)
                   / ref for keep, mask, ref in judged)

    return value


def per_part(scores: np.ndarray, rows: np.ndarray, items: np.ndarray,
             relevant: sp.csr_matrix, k: int, only: np.ndarray | None = None,
             part_of_row: np.ndarray | None = None) -> list[float]:
    """NDCG@k of ``scores`` on each split's rows."""
    return [round(ndcg_of_scores(scores[mask[rows]], rows[mask[rows]], items[mask[rows]],
                                 relevant, k, mask), 5)
            for mask in _part_masks(relevant.shape[0], only, part_of_row)]


def _part_masks(n_rows: int, only: np.ndarray | None, part_of_row: np.ndarray | None
                ) -> list[np.ndarray]:
    """One row mask per split (within ``only``)."""
    base = np.ones(n_rows, bool) if only is None else only
    if part_of_row is None:
        return [base]
    return [base & (part_of_row == p) for p in np.unique(part_of_row)]
