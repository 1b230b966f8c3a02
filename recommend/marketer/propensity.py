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

The decay is chosen per graph (:func:`choose_tau`, by the build) the way the rate is used:
at the graph's own time cut (the 80th percentile of its first take times), the rate of each
user known before it (a product event) is taken from their takes before it, and the decay
whose rate ranks best the users who take anything after it (recall of the top 100 and 5% of
users) is kept. With the audience's weights then chosen together on a time cut of the graph
(:mod:`recommend.marketer.cut_choice`), this is the decay served unless that choice turns the
rate on with another.

Takes without a time (a graph without timestamps, or some untimed records) count as old: at
the weight of the graph's oldest timed take, or 1 each when no take is timed (the plain count:
nothing to decay by). The rate is scaled by its maximum to [0, 1] (one user's rate only
matters against the others'). Cached on the graph per ``tau`` (one pass over the take times,
themselves cached), so an audience query pays it once per graph version.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["choose_tau", "take_rate"]


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


def choose_tau(graph: Any, tau_shares: tuple[float, ...], *, quantile: float = 0.8
               ) -> tuple[float | None, dict[str, Any]]:
    """The decay of ``tau_shares`` whose rate, taken at the graph's own time cut (the
    ``quantile`` of its first take times), best finds who takes anything after it, and the
    record; None when the graph has too few timed takes. Only users with a product event
    before the cut are ranked or counted (module docstring)."""
    from kg.interactions import NO_TIME, PRODUCT_RELATIONS, latest_times
    from recommend.marketer.columns import TAKES

    first = latest_times(graph, TAKES, first=True).tocoo()
    timed = first.data > NO_TIME
    if timed.sum() < 2 or not tau_shares:
        return None, {"note": f"{int(timed.sum())} timed takes: the fixed decay is kept"}
    cut = float(np.quantile(first.data[timed], quantile))
    events = latest_times(graph, PRODUCT_RELATIONS, first=True).tocoo()
    known = np.zeros(graph.num_nodes("user"), bool)
    known[events.row[events.data < cut]] = True
    takers = np.zeros_like(known)
    takers[first.row[timed & (first.data >= cut)]] = True
    takers &= known
    sizes = [n for n in (100, max(1, len(known) // 20)) if n < int(known.sum())]
    if not takers.any() or not sizes:
        return None, {"note": "no user known before the graph's time cut takes after it, or "
                              "every audience size lists them all: the fixed decay is kept"}
    recall = {}
    for tau in sorted(set(tau_shares)):
        rate = np.where(known, _take_rate(graph, tau, cut), -np.inf)
        order = np.lexsort((np.arange(len(rate)), -rate))
        recall[tau] = float(np.mean([takers[order[:n]].sum() / takers.sum() for n in sizes]))
    best = max(recall, key=lambda t: (round(recall[t], 6), t))
    return best, {"chosen": best, "cut": cut, "takers": int(takers.sum()),
                  "known": int(known.sum()), "sizes": sizes,
                  "recall": {f"{t:g}": round(r, 4) for t, r in recall.items()}}
