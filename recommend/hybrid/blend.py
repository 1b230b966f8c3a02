"""The blend: a linear score over normalised component scores, fitted on validation NDCG@10.

``score = features @ weights``. Three fitters, compared by 2-fold cross-validation over the
validation users (each fitted on one half, measured on the other):

- ``"coordinate"``: coordinate ascent on NDCG@k itself; each weight in turn is multiplied
  by the factors of ``blend.grid`` (0 switches a component off) and kept when NDCG improves;
- ``"logistic"``: a learned ranker, logistic regression of "held out" on the features
  (balanced classes), whose coefficients rank (its intercept, the same for every candidate,
  changes no ranking and is not kept);
- ``"listwise"``: each user's candidates compete in a softmax of the blend's scores, fitted
  to that user's held-out items, every user weighing the same
  (:mod:`recommend.hybrid.listwise`): the per-user ranking NDCG measures, where the
  pointwise logistic fit pools all rows (users with many held-out items dominate it);
- ``"gbdt"``: gradient-boosted trees over a richer design matrix
  (:mod:`recommend.hybrid.ranker`); then ``score`` needs that matrix.

The logistic fitter is the default (:data:`DEFAULT_FITTER`): a convex fit with one optimum,
learned from every candidate and with nothing searched, so it varies least with the
validation users drawn; coordinate ascent searches a grid on a step-shaped objective (the
top 10 of a few hundred users) and trees fit the most parameters. Another fitter replaces it
only when its cross-validated per-user NDCG gain over the default exceeds twice the
standard error of that paired gain (:func:`choose_fitter`): on ML-100K a gain of 0.0002
(noise on 943 users) once moved the fit to coordinate ascent, and the served hold-out
dropped from 0.437 to 0.427. The kept fitter is refitted on all validation users; every
figure is recorded. :func:`diversify` re-ranks with maximal marginal relevance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import scipy.sparse as sp

from recommend.evaluate.metrics import ndcg_at_k, ndcg_per_user
from recommend.hybrid.listwise import fit_listwise
from recommend.hybrid.ranker import (
    MIN_TREE_ROWS,
    booster_contributions,
    booster_scores,
    fit_booster,
)

BlendKind = Literal["coordinate", "logistic", "listwise", "gbdt", "fixed"]
#: Every kind of blend a saved model may hold.
BLEND_KINDS: tuple[str, ...] = get_args(BlendKind)


@dataclass
class Blend:
    """Fitted blend: component ``names``, their ``weights``, and how they were found (its
    ``kind``, one of :data:`BLEND_KINDS`)."""

    names: tuple[str, ...]
    weights: np.ndarray
    kind: BlendKind = "fixed"
    validation: dict[str, Any] = field(default_factory=dict)
    booster: Any = None  # the "gbdt" kind's lightgbm.Booster (saved apart, as text)

    @property
    def scores_design(self) -> bool:
        """Whether :meth:`score` and :meth:`parts` read the design matrix (the "gbdt" kind)
        rather than the features alone."""
        return self.kind == "gbdt"

    def score(self, features: np.ndarray, design: np.ndarray | None = None) -> np.ndarray:
        """Scores of candidates from their normalised ``features`` (the "gbdt" kind: from
        their ``design`` matrix, :func:`recommend.hybrid.ranker.design_matrix`).

        A linear blend's score is the sum of its :meth:`parts`.
        """
        if self.scores_design:
            if design is None:
                raise ValueError("a gbdt blend scores the design matrix: none was given")
            return booster_scores(self.booster, design)
        return features @ self.weights

    def parts(self, features: np.ndarray, design: np.ndarray | None = None) -> np.ndarray:
        """(candidates x components): each component's part of the score.

        Linear blends: weight x normalised score (the parts sum to the score). "gbdt": the
        component's TreeSHAP contribution to the trees' margin.
        """
        if self.scores_design:
            if design is None:
                raise ValueError("a gbdt blend explains the design matrix: none was given")
            return booster_contributions(self.booster, design, len(self.names))
        return features * self.weights

    def to_json(self) -> dict[str, Any]:
        return {"names": list(self.names), "weights": [float(w) for w in self.weights],
                "kind": self.kind, "validation": self.validation}

    @classmethod
    def from_json(cls, data: dict[str, Any], booster: Any = None) -> Blend:
        """The blend of :meth:`to_json` (a "gbdt" blend also needs its loaded ``booster``);
        ValueError for an unknown kind or non-finite weights (they would score every item
        NaN)."""
        if data["kind"] not in BLEND_KINDS:
            raise ValueError(f"blend kind {data['kind']!r} refused: not one of {BLEND_KINDS}")
        weights = np.asarray(data["weights"], np.float64)
        if not np.isfinite(weights).all():
            raise ValueError(f"blend weights {data['weights']} refused: not all finite")
        return cls(tuple(data["names"]), weights, data["kind"],
                   dict(data.get("validation", {})), booster)


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


def ndcg_rows(scores: np.ndarray, rows: np.ndarray, items: np.ndarray,
              relevant: sp.csr_matrix, k: int, only: np.ndarray) -> np.ndarray:
    """Per-row NDCG@k of the rows where ``only`` is True (in row order)."""
    recs = top_k_rows(scores, rows, items, relevant.shape[0], k)
    return ndcg_per_user(recs[only], relevant[np.flatnonzero(only)], k)


def twice_standard_error(gain: np.ndarray) -> float:
    """Twice the standard error of the mean of paired ``gain`` (inf below two pairs): a
    choice that changes a default must win by more than this."""
    return 2.0 * float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else np.inf


def record_float(value: float, digits: int) -> float | None:
    """``value`` rounded for a JSON record, None when not finite (a margin below two pairs:
    JSON has no infinity)."""
    return round(float(value), digits) if np.isfinite(value) else None


#: The blend fitter kept unless another beats it beyond noise (module docstring).
DEFAULT_FITTER = "logistic"


def choose_fitter(per_user: dict[str, np.ndarray], default: str = DEFAULT_FITTER
                  ) -> tuple[str, dict[str, dict[str, float]]]:
    """The fitter to keep from each fitter's cross-validated per-user NDCG (the same users,
    in the same order): ``default`` unless others' mean paired gain over it exceeds twice
    its standard error, then the one of those with the largest gain; and each challenger's
    gain and margin."""
    if default not in per_user:
        return (max(per_user, key=lambda n: float(per_user[n].mean())) if per_user
                else "coordinate"), {}
    gains: dict[str, dict[str, float]] = {}
    kind, best = default, 0.0
    for name, values in per_user.items():
        if name == default:
            continue
        gain = values - per_user[default]
        mean, margin = float(gain.mean()), twice_standard_error(gain)
        gains[name] = {"mean": round(mean, 5), "twice_se": record_float(margin, 5)}
        if mean > margin and mean > best:
            kind, best = name, mean
    return kind, gains


def fit_coordinate(features: np.ndarray, rows: np.ndarray, items: np.ndarray,
                   relevant: sp.csr_matrix, *, k: int = 10,
                   grid: Sequence[float] = (0.0, 0.25, 0.5, 2.0, 4.0),
                   rounds: int = 3) -> tuple[np.ndarray, float]:
    """Non-negative weights (summing to 1) maximising NDCG@k by coordinate ascent.

    The ascent starts from the better of equal weights and the best single component, so
    the blend never validates below its best component.
    """
    n = features.shape[1]
    starts = [np.ones(n), *np.eye(n)] if n > 1 else [np.ones(n)]
    values = [ndcg_of_scores(features @ s, rows, items, relevant, k) for s in starts]
    w = np.asarray(starts[int(np.argmax(values))], np.float64).copy()
    best = max(values)
    for _ in range(rounds):
        improved = False
        for j in range(n):
            base = w[j] if w[j] > 0 else (w[w > 0].mean() if (w > 0).any() else 1.0)
            for g in grid:
                cand = w.copy()
                cand[j] = base * g
                if not cand.any() or np.isclose(cand[j], w[j]):
                    continue
                value = ndcg_of_scores(features @ cand, rows, items, relevant, k)
                if value > best + 1e-9:
                    best, w, improved = value, cand, True
        if not improved:
            break
    return w / w.sum(), best


def held_labels(relevant: sp.csr_matrix, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Whether each candidate ``(rows[c], items[c])`` was held out (``relevant`` > 0); no
    candidates give an empty array (scipy indexes a sparse matrix with empty arrays into a
    sparse 1 x 0 matrix, not an empty array).

    >>> held_labels(sp.csr_matrix(np.eye(2)), np.array([0, 1]), np.array([0, 0])).tolist()
    [True, False]
    >>> held_labels(sp.csr_matrix(np.eye(2)), np.zeros(0, int), np.zeros(0, int)).shape
    (0,)
    """
    if len(rows) == 0:
        return np.zeros(0, bool)
    return np.asarray(relevant[rows, items]).ravel() > 0


def fit_logistic(features: np.ndarray, rows: np.ndarray, items: np.ndarray,
                 relevant: sp.csr_matrix, *, seed: int = 0) -> np.ndarray:
    """Logistic-regression weights (label: the candidate was held out)."""
    from sklearn.linear_model import LogisticRegression

    y = held_labels(relevant, rows, items)
    if y.all() or not y.any():
        return np.ones(features.shape[1]) / features.shape[1]
    model = LogisticRegression(class_weight="balanced", C=1.0, max_iter=500, random_state=seed)
    model.fit(features, y)
    return model.coef_[0].astype(np.float64)


def fit_blend(features: np.ndarray, rows: np.ndarray, items: np.ndarray,
              relevant: sp.csr_matrix, names: Sequence[str], *, k: int = 10,
              grid: Sequence[float] = (0.0, 0.25, 0.5, 2.0, 4.0), rounds: int = 3,
              learned: bool = True, design: np.ndarray | None = None,
              seed: int = 0, groups: np.ndarray | None = None,
              fitter: str | None = None) -> Blend:
    """Choose and fit the blend on validation candidates (module docstring).

    ``relevant`` is (n_rows x n_items): each row's held-out items. The "gbdt" fitter
    competes when ``learned`` and the candidates' ``design`` matrix is given. ``groups``
    (per row of ``relevant``): rows of one group (one user in several validation folds)
    fall in the same cross-validation fold. A ``fitter`` given is fitted without choosing
    (no cross-validation: ``cv_ndcg@k`` empty, ``"fitter": "given"``).
    """
    n_rows = relevant.shape[0]
    rng = np.random.default_rng(seed)
    if groups is None:
        fold = rng.integers(0, 2, n_rows)
    else:
        fold = rng.integers(0, 2, int(groups.max(initial=-1)) + 1)[groups]
    fitters = ("coordinate", "logistic", "listwise", "gbdt") if design is not None else (
        "coordinate", "logistic", "listwise")
    cv: dict[str, list[np.ndarray]] = {name: [] for name in fitters}
    if fitter is None and learned and 0 < fold.sum() < n_rows:  # each fold needs users to
        # fit and to test
        for f in (0, 1):
            tr, te = fold[rows] != f, fold[rows] == f
            rel_tr = rows_only(relevant, fold != f)
            for name in fitters:
                blend = fit_kind(name, features[tr], rows[tr], items[tr], rel_tr, names,
                                 None if design is None else design[tr],
                                 k=k, grid=grid, rounds=rounds, seed=seed)
                scores = blend.score(features[te], None if design is None else design[te])
                cv[name].append(ndcg_rows(scores, rows[te], items[te], relevant, k, fold == f))
    per_user = {name: np.concatenate(v) for name, v in cv.items() if v}
    if groups is not None and per_user:  # one figure per user: its folds' mean (paired gains
        # of a user's rows are not independent, so their standard error is the users')
        order = np.concatenate([np.flatnonzero(fold == f) for f in (0, 1)])
        count = np.bincount(groups[order])
        present = count > 0
        per_user = {name: (np.bincount(groups[order], weights=v) / np.maximum(count, 1))[present]
                    for name, v in per_user.items()}
    means = {name: float(v.mean()) for name, v in per_user.items()}
    kind, gains = choose_fitter(per_user) if per_user else (fitter or "coordinate", {})
    blend = fit_kind(kind, features, rows, items, relevant, names, design,
                     k=k, grid=grid, rounds=rounds, seed=seed)
    full = ndcg_of_scores(blend.score(features, design), rows, items, relevant, k)
    blend.validation = {f"cv_ndcg@{k}": means, f"cv_gain_over_{DEFAULT_FITTER}": gains,
                        f"ndcg@{k}": full, "rows": int(n_rows),
                        "users": int(n_rows if groups is None else len(np.unique(groups))),
                        "single": {n: ndcg_of_scores(features[:, j], rows, items, relevant, k)
                                   for j, n in enumerate(names)}}
    if fitter is not None:
        blend.validation["fitter"] = "given"
    return blend


def fit_kind(kind: str, features: np.ndarray, rows: np.ndarray, items: np.ndarray,
             relevant: sp.csr_matrix, names: Sequence[str], design: np.ndarray | None, *,
             k: int, grid: Sequence[float], rounds: int, seed: int) -> Blend:
    """One fitter's blend on these candidates. With none (a cross-validation fold whose
    users have nothing to rank), or for trees fewer than :data:`~recommend.hybrid.ranker.
    MIN_TREE_ROWS` (too few to split, and LightGBM's bagging may keep none): equal weights,
    nothing to learn from."""
    if len(rows) == 0 or (kind == "gbdt" and len(rows) < MIN_TREE_ROWS):
        return Blend(tuple(names), np.full(len(names), 1.0 / len(names)), "coordinate")
    if kind == "gbdt":
        assert design is not None
        labels = held_labels(relevant, rows, items)
        return Blend(tuple(names), np.zeros(len(names)), "gbdt",
                     booster=fit_booster(design, labels, seed=seed))
    if kind == "logistic":
        w = fit_logistic(features, rows, items, relevant, seed=seed)
        return Blend(tuple(names), w, "logistic")
    if kind == "listwise":
        w = fit_listwise(features, rows, held_labels(relevant, rows, items))
        return Blend(tuple(names), w, "listwise")
    w, _ = fit_coordinate(features, rows, items, relevant, k=k, grid=grid, rounds=rounds)
    return Blend(tuple(names), np.asarray(w, np.float64), "coordinate")


def rows_only(m: sp.csr_matrix, keep: np.ndarray) -> sp.csr_matrix:
    """``m`` with the rows not in ``keep`` emptied (same shape)."""
    return (sp.diags(keep.astype(np.float64)) @ m).tocsr()


def diversify(items: np.ndarray, scores: np.ndarray, vectors: np.ndarray, k: int,
              strength: float) -> np.ndarray:
    """Positions of ``k`` items picked by maximal marginal relevance.

    Each pick maximises ``(1 - strength) * score - strength * max cosine to the picked``,
    with ``scores`` rescaled to [0, 1]; ``vectors`` are unit rows per item (zero rows: no
    similarity). ``strength=0`` keeps the score order.
    """
    n = len(items)
    if n == 0 or strength <= 0:
        return np.argsort(-scores, kind="stable")[:k]
    span = scores.max() - scores.min()
    rel = (scores - scores.min()) / span if span > 0 else np.ones(n)
    sims = vectors @ vectors.T
    picked: list[int] = []
    max_sim = np.zeros(n)
    free = np.ones(n, bool)
    for _ in range(min(k, n)):
        value = np.where(free, (1 - strength) * rel - strength * max_sim, -np.inf)
        j = int(np.argmax(value))
        picked.append(j)
        free[j] = False
        max_sim = np.maximum(max_sim, sims[j])
    return np.asarray(picked, np.int64)
