"""Each user's propensity to take products in the coming period: a recency-decayed take rate.

The audience asks "who takes this product next?", which is ``P(u takes something in the
period) x P(this product | u takes one)``. The hybrid answers the second factor: it ranks a
user's products against each other, and its item column (min-max over users) cannot tell a
shopper who takes a product a week from one who took three, years ago. The first factor is
the person's own pace: how many products they took (first purchase, cart or rating of each,
:data:`recommend.marketer.columns.TAKES`) and how recently, as the count with each take
weighted ``exp(-age / tau)``, ``age`` measured back from the graph's latest take. ``tau`` is
a share of the graph's time span (:func:`take_rate`), so the same setting means the same on
a dataset of months or of years.

Takes without a time (a graph without timestamps, or some untimed records) count as old: at
the weight of the graph's oldest timed take, or 1 each when no take is timed (the plain count:
nothing to decay by). The rate is scaled by its maximum to [0, 1] (one user's rate only
matters against the others'). Cached on the graph per ``tau`` (one pass over the take times,
themselves cached), so an audience query pays it once per graph version.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["take_rate"]


def take_rate(graph: Any, tau_share: float, now: float | None = None) -> np.ndarray:
    """Every graph user's recency-decayed count of products taken, scaled to [0, 1]
    (module docstring). ``tau_share``: the decay's time constant as a share of the span from
    the earliest to the latest timed take. ``now``: the time ages are measured from, and the
    takes at or after it left out (default: the latest take, nothing left out)."""
    if tau_share <= 0:
        raise ValueError(f"tau_share must be positive, not {tau_share}")
    return graph.cached(("marketer.take_rate", float(tau_share), now),
                        lambda: _take_rate(graph, tau_share, now))


def _take_rate(graph: Any, tau_share: float, now: float | None) -> np.ndarray:
    from kg.interactions import NO_TIME, latest_times
    from recommend.marketer.columns import TAKES

    n_users = graph.num_nodes("user")
    first = latest_times(graph, TAKES, first=True).tocoo()
    rows, t = first.row, first.data
    timed = t > NO_TIME
    if now is not None:
        keep = ~timed | (t < now)
        rows, t, timed = rows[keep], t[keep], timed[keep]
    if timed.any():
        latest = float(t[timed].max()) if now is None else float(now)
        span = max(latest - float(t[timed].min()), 1.0)
        ages = np.where(timed, latest - t, latest - float(t[timed].min()))
        weights = np.exp(-ages / (tau_share * span))
    else:
        weights = np.ones(len(rows))
    rate = np.bincount(rows, weights, minlength=n_users)[:n_users].astype(np.float64)
    top = float(rate.max()) if len(rate) else 0.0
    return rate / top if top > 0 else rate
