"""Order evidence must hold on both kinds of held-out item.

The ``session`` component knows what people take *next*: it predicts a user's latest
products and little else. The build's mixed validation holds out each user's latest
products and some earlier ones at random, and a blend fitted on all of them together
weighs the session by the latest part, where its gains are largest. Served on data judged
on a random share, that weight costs: on ML-100K the session's learned weight lowered a
random hold-out's NDCG@10 from 0.450 to 0.437, below a plain EASE (0.449), while the same
weight raised a by-time hold-out from 0.208 to 0.250.

So an order component is served at the weight that *both* parts support: the blend's kind
is fitted again on the latest part alone and on the earlier part alone, and the order
component's share of the blend (its weight over the sum of absolute weights) is lowered to
the smaller of the two fits' shares (0 when either gives it no positive weight). The other
components keep the weights fitted on all held-out items. Learned rankers (trees) have no
share to lower and are left as they are; so is a validation without both parts (random, or
by time only).

Measured on ML-100K (test hold-outs of ``bench/generalise.py``; the session's share
0.21 -> 0.03 on the random test's training data, 0.27 -> 0.02 on the by-time one): the
random hold-out scores 0.451 (EASE 0.449) and the by-time one 0.211 (EASE 0.209, the
session alone 0.221, the fitted blend 0.250). It trades the by-time figure for the random
one, so it is off by default (``HybridConfig.order_weight``).

Nor does a mix of two fits (session 22, not kept): the blend fitted on the latest part
alone and on the earlier part alone, served as ``(1 - a) * earlier + a * latest``, scores on
ML-100K's tests (random / by time) for a = 0, .1, .25, .4, .5, .75, 1: .4495 / .2138,
.4503 / .2193, .4487 / .2285, .4455 / .2426, .4425 / .2505, .4321 / .2667, .4130 / .2668.
Every a trades one figure for the other; a rule serving a mix only where the set-apart
users put it above the fitted blend on both parts fired on demo-7 at random (a = .75) and
lost on its test, 0.3234 -> 0.3213.

Nor does the session's weight gain by varying per user (session 22, not kept): a linear
blend with the session's normalised score times a standardised per-user feature as one more
column, fitted as the blend is on the validation and judged on its set-apart users, then
refitted and scored on the ML-100K tests (test NDCG@10 random / by time, gain over the
plain logistic blend 0.4455 / 0.2509 +- twice its standard error): history length (log)
-0.0193 +- 0.0063 / -0.0054 +- 0.0055; history span -0.0005 / -0.0007; gap to the last
event -0.0010 / +0.0001; share of events within an hour of the previous -0.0002 /
+0.0006; the three together -0.0017 / +0.0002; the session's best raw score -0.0005 /
-0.0044; its correlation with the cf score over the user's candidates +0.0022 +- 0.0027 /
0.0000; every component's score times history length -0.0125 / -0.0027. The listwise
fitter (-0.0053 / -0.0026 alone) with the history or the correlation term: -0.0029 /
-0.0058 and -0.0055 / -0.0004. None won on the set-apart users beyond twice its standard
error (the closest, every score times history length at random: +0.0047 +- 0.0057, then
-0.0125 on the test): the selection rule would serve none. ML-100K's users rate in one
sitting (on average 98% of a user's events within an hour of the previous): a held-out
item's kind (latest or at random) is the test's question, not the user's, and no per-user
feature tells them apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.hybrid.blend import Blend, fit_kind

#: Components whose evidence is the order of a user's events.
ORDER_COMPONENTS: tuple[str, ...] = ("session",)

_LINEAR = ("logistic", "listwise", "coordinate")


def share(weights: np.ndarray, j: int) -> float:
    """Component ``j``'s signed share of the blend: its weight over the sum of absolute
    weights (0 for an all-zero blend)."""
    total = float(np.abs(weights).sum())
    return float(weights[j]) / total if total > 0 else 0.0


def with_share(weights: np.ndarray, j: int, target: float) -> np.ndarray:
    """``weights`` with component ``j`` rescaled to share ``target`` (in [0, 1)) of the
    blend, the others unchanged; unchanged when no other component has weight."""
    others = float(np.abs(np.delete(weights, j)).sum())
    if others == 0 or not 0 <= target < 1:
        return weights
    out = weights.astype(np.float64).copy()
    out[j] = target * others / (1.0 - target)
    return out


def order_consensus(blend: Blend, features: np.ndarray, rows: np.ndarray, items: np.ndarray,
                    latest: sp.csr_matrix, earlier: sp.csr_matrix, *, k: int,
                    grid: Any, rounds: int, seed: int) -> Blend:
    """``blend`` with each order component's share lowered to what fits on the ``latest``
    and on the ``earlier`` held-out items (rows x items, as the candidates' ``rows``)
    both give it (module docstring); the figures go to ``validation["order_consensus"]``."""
    names = blend.names
    order = [j for j, n in enumerate(names) if n in ORDER_COMPONENTS]
    if blend.kind not in _LINEAR or not order or not latest.nnz or not earlier.nnz:
        return blend
    parts = {part: fit_kind(blend.kind, features, rows, items, rel, names, None, k=k,
                            grid=grid, rounds=rounds, seed=seed).weights
             for part, rel in (("latest", latest), ("earlier", earlier))}
    weights = np.asarray(blend.weights, np.float64).copy()
    record: dict[str, Any] = {}
    for j in order:
        shares = {part: share(w, j) for part, w in parts.items()}
        agreed = min(shares.values()) if min(shares.values()) > 0 else 0.0
        fitted = share(weights, j)
        if agreed < fitted:
            weights = with_share(weights, j, agreed)
        record[names[j]] = {**{p: round(s, 4) for p, s in shares.items()},
                            "fitted": round(fitted, 4), "served": round(share(weights, j), 4)}
    return Blend(names, weights, blend.kind, {**blend.validation, "order_consensus": record},
                 blend.booster)
