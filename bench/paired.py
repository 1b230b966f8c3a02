"""Is a bench row's gap noise? The hybrid against its best part and best peer, paired per user.

Every ranker of a generalise / shapes row is scored on the same test users, so the
difference of two rankers' NDCG@k is best judged per user: its mean is the difference of
the two rows' NDCG, and its standard error (the per-user differences' sample standard
deviation over the square root of their number) leaves out what the users share, the
spread between easy and hard users. The 95% interval is the mean +- 1.96 SE (normal: the
rows have tens to thousands of users).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

#: the normal quantile of a two-sided 95% interval
Z95 = 1.959964


def paired_difference(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mean of ``a - b`` over paired users, its standard error and 95% interval (``se``,
    ``lo``, ``hi`` None with fewer than two users: no noise estimate)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired values need the same users: shapes {a.shape} and {b.shape}")
    d = a - b
    mean = float(d.mean()) if len(d) else 0.0
    out: dict[str, Any] = {"diff": round(mean, 6), "se": None, "lo": None, "hi": None,
                           "users": len(d)}
    if len(d) > 1:
        se = float(d.std(ddof=1) / math.sqrt(len(d)))
        out.update(se=round(se, 6), lo=round(mean - Z95 * se, 6), hi=round(mean + Z95 * se, 6))
    return out


def versus_best(hybrid: np.ndarray, pool: Mapping[str, np.ndarray]) -> dict[str, Any] | None:
    """The hybrid's per-user NDCG (``hybrid``) against the best of ``pool`` (name -> per-user
    NDCG of the same users, the best by its mean): ``{name, ndcg, diff, se, lo, hi, users}``
    (:func:`paired_difference`), None with an empty pool."""
    if not pool:
        return None
    means = {n: float(np.mean(v)) if len(v) else 0.0 for n, v in pool.items()}
    best = max(means, key=means.get)  # type: ignore[arg-type]
    return {"name": best, "ndcg": round(means[best], 6),
            **paired_difference(hybrid, pool[best])}


def compare(per_user: Mapping[str, np.ndarray], peers: dict[str, dict[str, Any]]
            ) -> dict[str, Any]:
    """``vs_best_part`` (the best component alone: rows named "... alone") and
    ``vs_best_peer`` of a split's evaluation: ``per_user`` its rows' per-user NDCG
    (:attr:`recommend.evaluate.holdout.Evaluation.per_user`), ``peers`` the peers' figures,
    from which their ``per_user`` arrays are taken out (they are not written to the json)."""
    peer_users = {n: np.asarray(r.pop("per_user")) for n, r in peers.items() if "per_user" in r}
    if "hybrid" not in per_user:
        return {}
    parts = {n: v for n, v in per_user.items() if n.endswith(" alone")}
    out = {"vs_best_part": versus_best(per_user["hybrid"], parts),
           "vs_best_peer": versus_best(per_user["hybrid"], peer_users)}
    return {k: v for k, v in out.items() if v is not None}


def described(vs: Mapping[str, Any] | None) -> str:
    """One table cell: ``name ndcg diff [lo, hi] z`` (diff over its SE)."""
    if not vs:
        return "-"
    z = f" {vs['diff'] / vs['se']:+.1f}SE" if vs.get("se") else ""
    interval = f" [{vs['lo']:+.4f}, {vs['hi']:+.4f}]" if vs.get("se") is not None else ""
    return f"{vs['name']} {vs['ndcg']:.4f} diff {vs['diff']:+.4f}{interval}{z}"
