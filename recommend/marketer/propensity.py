"""Each user's propensity to take products in the coming period: a fitted return model.

The audience asks "who takes this product next?", which is ``P(u takes i) ~ E[products u
takes in the period] x P(i | u takes one)``. The hybrid answers the second factor: it ranks
a user's products against each other, and its item column cannot tell a shopper who will
come back next week from one who took three products once, a year ago. The first factor is
the person's own pace, and above all whether they come back at all.

Customer-base models (Pareto/NBD, BG/NBD) answer it from three numbers per person: how many
times they bought (frequency), how long ago the last time was (recency) and how long ago the
first (age). Here the three feed a Poisson regression (log link) of the number of products a
user takes in the coming period:

- frequency: ``log(1 + takes)``, a take being the first purchase, cart or rating of a product
  (:data:`recommend.marketer.columns.TAKES`);
- recency: ``log(gap + 0.01)``, ``gap`` the time since their last take;
- age: ``log(1 + time since their first take)``;

times in units of the period, so the same model means the same on data of months or years.
It is fitted on the graph's own past (:func:`fit_return_model`): at the graph's time cut (the
80th percentile of its first take times, as the build and the bench cut), the features of
each user with a take before it, and the number of products they first took after it; the
period is the time from the cut to the latest take. It is then applied at the latest take
(now), with the same period: who takes how much in a period as long as the one it learnt on.
The expected count is scaled by its maximum to [0, 1] (:func:`take_rate`; one user's rate only
matters against the others').

Why not the recency-decayed count it replaces (each take weighted ``exp(-age / tau)``): as a
ranking of who takes how much, the two are alike (ML-100K's bench time cut: the users each
puts in the top 5% take 27% of what is taken after the cut, 28% for the best of seven decays;
rank correlation 0.38 both). What differs is the factor ``rate ** a`` the audience multiplies
the taste by. The log of a decayed count falls linearly with the age of the last take, so a
decay short enough to find who is still active (0.03% to 0.3% of the span) leaves 98% to
99% of users below 1% of the best, and a longer one lets the gap override the taste; the fitted
model's log falls with the log of the gap (a power law), with age and frequency beside it,
so users of like recency are still told apart by their taste. Measured on that test, as a
diagnostic and never a choice: the decayed count reached at most 1.43x the category buyers'
recall at 5% of users over every ``b``, ``a`` (up to 8) and decay swept, and no more with a
floor down to 1e-8 (three decays, ``b`` 0.3 or 0.5, ``a`` 0.25 to 1); the fitted model 1.57x
to 1.70x at those ``b`` and ``a``.

Takes without a time (some untimed records) count as old: at the graph's oldest timed take.
When the model cannot be fitted (fewer than two timed takes, no user with a take before the
cut takes anything after it, or a fit that is not finite) the rate is each user's plain
count of takes, and the record says why. Cached on the graph (one pass over its take times),
so an audience query pays it once per graph version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from recommend.marketer.columns import TAKES

__all__ = ["CUT_QUANTILE", "FEATURES", "ReturnModel", "cut_time", "fit_return_model",
           "take_rate"]

#: Where the graph's own time cut falls: this quantile of its first take times.
CUT_QUANTILE = 0.8
#: The return model's features, in its coefficients' order (after the intercept).
FEATURES = ("frequency", "recency", "age")
#: The recency's floor, in periods: a last take at the very end is 1% of a period ago.
RECENT = 0.01
#: The ridge penalty on the standardised coefficients (keeps a separable fit finite).
RIDGE = 1e-3


@dataclass(frozen=True)
class ReturnModel:
    """A fitted return model: the intercept and :data:`FEATURES` coefficients over
    standardised features (``mean``, ``scale``), the ``period`` its times are measured in,
    and the record of the fit; ``coef`` is None when it could not be fitted."""

    coef: np.ndarray | None
    mean: np.ndarray
    scale: np.ndarray
    period: float
    record: dict[str, Any]

    def expected(self, counts: np.ndarray, first: np.ndarray, last: np.ndarray,
                 now: float) -> np.ndarray:
        """Each user's expected takes in the coming period, from their take ``counts`` and
        ``first`` and ``last`` take times (users without a take: 0); the plain count when the
        model was not fitted."""
        if self.coef is None:
            return counts.astype(np.float64)
        has = counts > 0
        x = (_features(counts[has], first[has], last[has], now, self.period) - self.mean) \
            / self.scale
        out = np.zeros(len(counts))
        out[has] = np.exp(np.clip(self.coef[0] + x @ self.coef[1:], -50.0, 50.0))
        return out


def take_rate(graph: Any) -> np.ndarray:
    """Every graph user's expected number of takes in the coming period, scaled to [0, 1]
    (module docstring)."""
    return graph.cached("marketer.take_rate", lambda: _take_rate(graph))


def _take_rate(graph: Any) -> np.ndarray:
    rows, t = _take_times(graph)
    model = fit_return_model(graph)
    now = float(t.max()) if len(t) else 0.0
    rate = model.expected(*_summary(rows, t, graph.num_nodes("user"), np.inf), now)
    top = float(rate.max()) if len(rate) else 0.0
    return rate / top if top > 0 else rate


def cut_time(graph: Any, quantile: float = CUT_QUANTILE, targets: tuple[str, ...] = TAKES
             ) -> float | None:
    """The graph's time cut: the ``quantile`` of its first take times (of ``targets``; None
    with fewer than two timed takes). Cached per graph: the build's time cut
    (:func:`recommend.marketer.timecut.time_cut`) and the return model share it."""
    from kg.interactions import NO_TIME, latest_times

    def compute() -> float | None:
        times = latest_times(graph, targets, first=True).data
        timed = times[times > NO_TIME]
        return float(np.quantile(timed, quantile)) if len(timed) >= 2 else None

    return graph.cached(("marketer.cut_time", float(quantile), tuple(targets)), compute)


def fit_return_model(graph: Any) -> ReturnModel:
    """The return model fitted at ``graph``'s time cut (module docstring). Cached."""
    return graph.cached("marketer.return_model", lambda: _fit(graph))


def _fit(graph: Any) -> ReturnModel:
    rows, t = _take_times(graph)
    n_users = graph.num_nodes("user")
    cut = cut_time(graph)
    plain = ReturnModel(None, np.zeros(0), np.zeros(0), 1.0, {})
    if cut is None:
        return _with_note(plain, "fewer than 2 timed takes: the rate is the count of takes")
    period = float(t.max()) - cut
    counts, first, last = _summary(rows, t, n_users, cut)
    has = counts > 0
    after = np.bincount(rows[t >= cut], minlength=n_users)[:n_users].astype(np.float64)
    y = after[has]
    if period <= 0 or not (y > 0).any():
        return _with_note(plain, "no user with a take before the graph's time cut takes "
                                 "anything after it: the rate is the count of takes")
    x = _features(counts[has], first[has], last[has], cut, period)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    coef = _poisson(np.column_stack([np.ones(len(y)), (x - mean) / scale]), y)
    if not np.isfinite(coef).all():
        return _with_note(plain, "the return model's fit did not converge: the rate is the "
                                 "count of takes")
    record = {"cut": cut, "period": period, "users": int(has.sum()),
              "takers": int((y > 0).sum()), "takes_after": int(y.sum()),
              "coefficients": {n: round(float(c / s), 4) for n, c, s
                               in zip(FEATURES, coef[1:], scale, strict=True)}}
    return ReturnModel(coef, mean, scale, period, record)


def _with_note(model: ReturnModel, note: str) -> ReturnModel:
    return ReturnModel(model.coef, model.mean, model.scale, model.period, {"note": note})


def _take_times(graph: Any) -> tuple[np.ndarray, np.ndarray]:
    """Users and times of every (user, product) first take; untimed ones at the oldest
    timed time (module docstring), all at 0 when none is timed."""
    from kg.interactions import NO_TIME, latest_times

    first = latest_times(graph, TAKES, first=True).tocoo()
    timed = first.data > NO_TIME
    t = np.where(timed, first.data, first.data[timed].min() if timed.any() else 0.0)
    return first.row.astype(np.int64), t.astype(np.float64)


def _summary(rows: np.ndarray, t: np.ndarray, n_users: int, until: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's count of takes before ``until``, and the times of their first and last
    one (inf and -inf for users without any)."""
    keep = t < until
    rows, t = rows[keep], t[keep]
    counts = np.bincount(rows, minlength=n_users)[:n_users].astype(np.float64)
    first = np.full(n_users, np.inf)
    last = np.full(n_users, -np.inf)
    np.minimum.at(first, rows, t)
    np.maximum.at(last, rows, t)
    return counts, first, last


def _features(counts: np.ndarray, first: np.ndarray, last: np.ndarray, now: float,
              period: float) -> np.ndarray:
    """(users x :data:`FEATURES`): frequency, recency and age, times in ``period`` units."""
    gap = np.maximum(now - last, 0.0) / period
    age = np.maximum(now - first, 0.0) / period
    return np.column_stack([np.log1p(counts), np.log(gap + RECENT), np.log1p(age)])


def _poisson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The Poisson regression's coefficients (log link, ``x``'s first column the intercept),
    by scikit-learn's ``PoissonRegressor``: the mean half deviance with a small ridge on the
    others (convex, the intercept unpenalised)."""
    from sklearn.linear_model import PoissonRegressor

    fit = PoissonRegressor(alpha=RIDGE, max_iter=1000).fit(x[:, 1:], y)
    return np.r_[fit.intercept_, fit.coef_]
