"""The listwise blend fitter: linear weights fitted for each user's ranking of candidates.

The logistic fitter (:func:`recommend.hybrid.blend.fit_logistic`) classifies every
candidate row on its own, pooled over users: users with many held-out items weigh more, and
so does a score's global scale, though NDCG@k only asks how each user's candidates are
ordered among themselves. Here each user's candidates compete in a softmax of the blend's
scores, and the loss is the cross-entropy between that softmax and the user's held-out
items (an equal share each):

    loss(w) = mean over users u of [ log sum_{c in C_u} exp(x_c . w) - mean_{p in P_u} x_p . w ]
              + l2 / 2 * |w|^2

(``C_u`` the user's candidates, ``P_u`` the held-out ones among them; users with none give
no gradient and are left out). Each user weighs the same whatever their number of held-out
items; a per-user constant changes nothing (the softmax ignores it), so no intercept is
needed. The loss is convex in ``w`` (a log-sum-exp of linear functions minus a linear one,
plus the ridge), fitted by L-BFGS with its exact gradient; the sums per user are
``np.add.reduceat`` over candidates sorted by user, with no Python loop over users.
The result is the blend's usual linear weights: serving and explanations are unchanged.

It competes in :func:`recommend.hybrid.blend.choose_fitter`; it is not the default. Measured
(session 21, cross-validated NDCG@10 over the build's validation users, listwise minus
logistic, twice its standard error): ML-100K -0.0008 (0.0019), amazon2018-beauty -0.0003
(0.0018), amazon2018-fashion +0.0002 (0.0029), demo-7 -0.0006 (0.011), shapes control
+0.0007 (0.011), ratings-explicit -0.0066 (0.0085): nowhere beyond noise. On ML-100K's
set-apart users the pointwise blend's deficit on the earlier held-out items (0.3250 against
the cf alone's 0.3302) is not its objective's: the listwise fit on the same mixed items
scores 0.3216 there, and either fitted on the earlier items alone 0.3315-0.3319. The mixed
validation's latest items, not the pooled rows, pull the weights (:mod:`recommend.hybrid.order`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

#: The ridge on the weights (the features are per-user normalised, in [0, 1] by default):
#: the softmax's sharpness is the weights' scale, so without it a separable fold would push
#: them to infinity.
L2 = 1e-3
#: L-BFGS iterations at most (the fit converges in a few dozen on the validation folds).
MAX_ITER = 200


#: The loss and its gradient at the weights, in one call (scipy's ``jac=True`` form).
Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def listwise_loss(features: np.ndarray, rows: np.ndarray, held: np.ndarray,
                  l2: float = L2) -> Objective | None:
    """The loss of the module docstring and its gradient, as one function of the weights, for
    candidates ``features`` (candidates x components) grouped by ``rows`` (any order),
    ``held`` marking the held-out ones; None when no user has both a held-out and another
    candidate (nothing to rank)."""
    if len(rows) == 0:
        return None
    order = np.argsort(rows, kind="stable")
    r, h = rows[order], held[order].astype(bool)
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    size = np.diff(np.r_[starts, len(r)])
    n_held = np.add.reduceat(h.astype(np.float64), starts)
    useful = (n_held > 0) & (n_held < size)  # a user all held out or none: nothing to rank
    if not useful.any():
        return None
    keep = order[np.repeat(useful, size)]
    x, h = np.asarray(features[keep], np.float64), held[keep].astype(bool)
    starts = np.r_[0, np.cumsum(size[useful])[:-1]]
    group = np.repeat(np.arange(len(starts)), size[useful])
    target = h / n_held[useful][group]  # each user's held-out items share 1
    n_users = float(len(starts))
    target_x = target @ x

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = x @ w
        top = np.maximum.reduceat(s, starts)
        e = np.exp(s - top[group])
        z = np.add.reduceat(e, starts)
        lse = float((np.log(z) + top).sum())
        p = e / z[group]
        return ((lse - float(target @ s)) / n_users + 0.5 * l2 * float(w @ w),
                (p @ x - target_x) / n_users + l2 * w)

    return loss


def fit_listwise(features: np.ndarray, rows: np.ndarray, held: np.ndarray, *,
                 l2: float = L2, max_iter: int = MAX_ITER) -> np.ndarray:
    """Weights minimising :func:`listwise_loss` from equal weights, by L-BFGS; equal
    weights when there is nothing to rank (or the fit is not finite)."""
    n_feat = features.shape[1]
    equal = np.full(n_feat, 1.0 / max(n_feat, 1))
    objective = listwise_loss(features, rows, held, l2) if n_feat else None
    if objective is None:
        return equal
    result = minimize(objective, equal, jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter})
    w = np.asarray(result.x, np.float64)
    return w if np.isfinite(w).all() else equal
