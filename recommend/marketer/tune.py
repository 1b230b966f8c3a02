"""The audience's category weight ``b``, chosen per artifact on the build's validation split.

The audience (:mod:`recommend.marketer.audience`) is ``(1 - b) * hybrid + b * category``. How
much the users' appetite for a product's categories adds to the hybrid differs by data: on the
bench's validation cuts (``bench/marketer.py``) ML-100K preferred ``b = 0.5``, the demo worlds
and Amazon 2018 ``0.05``. So the build chooses it on what it already holds apart:

- the hybrid fitted on the validation split's training graph (the served blend), whose "seen"
  leaves the held-out pairs out, so their users are candidates of the product's audience;
- the held-out pairs themselves: a product's held-out users are the people who took it next.

For up to ``n_products`` products with at least ``min_takers`` held-out users (a seeded
choice; fewer than ``min_products`` such products keep the fixed weight: a mean over a
handful of products would choose by chance), each ``b`` of the config's
``audience_category_weights`` ranks every candidate once (the components' columns are
computed once per product, :class:`~recommend.marketer.audience.AudienceParts`), and its
recall of the held-out users is taken at n = 100 and n = 5% of users (each only where n is
below the number of candidates: a list of everyone says nothing). The best mean recall
(ties: the smaller ``b``) replaces the fixed ``audience_category_weight`` only when its paired
per-product gain over it exceeds twice its standard error. The bench showed why
(``bench/marketer.py``): with the best mean alone, Amazon 2018's 19 products chose 0.5 over
0.3 by 0.015 of recall on validation, and its test recall@100 halved (0.47 to 0.38).

Then the activity weight ``a`` and the take rate's decay ``tau``
(:mod:`recommend.marketer.propensity`), with ``b`` as chosen. A held-out pair only says who
takes a product *next* when the held-out pairs are cut by time: the split holds out every
validated user's products, the idle ones' too. So the held-out pairs are cut at the 80th
percentile of their first take times (:func:`choose_activity`): the takers of a product are
its held-out users from the cut on, and each user's rate counts only their takes before it,
aged from it. Each ``a`` of ``audience_activity_weights`` at each ``tau`` of
:data:`TAU_SHARES` is judged as ``b`` is, against the fixed ``audience_activity_weight`` at
``audience_activity_tau``, by the same two-standard-error rule. The probe's taste itself
still saw the training graph's later takes of other products (the split keeps them): the
choice is of the rate's weight and decay, not of the hybrid.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.hybrid.tune import twice_standard_error
from recommend.marketer.audience import activity, audience_parts, top_users
from recommend.marketer.propensity import take_rate

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.blend import Blend
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.model import HybridModel
    from recommend.hybrid.split import HoldoutSplit

__all__ = ["TAU_SHARES", "audience_sizes", "choose_activity", "choose_category_weight",
           "tune_audience"]

#: The take rate's decays judged, as shares of the graph's time span.
TAU_SHARES = (0.01, 0.03, 0.1, 0.3)
#: The share of the timed held-out pairs before the validation's time cut.
CUT_QUANTILE = 0.8


def audience_sizes(n_users: int) -> dict[str, int]:
    """The audience sizes judged: 100 and 5% of users (at least 1)."""
    return {"100": 100, "5%": max(1, n_users // 20)}


def choose_category_weight(model: HybridModel, held_out: sp.csr_matrix,
                           weights: tuple[float, ...], fixed: float, *, n_products: int = 50,
                           min_products: int = 10, min_takers: int = 5, seed: int = 0
                           ) -> tuple[float | None, dict[str, Any]]:
    """The best ``b`` of ``weights`` for ``model`` (fitted on the validation training graph)
    at finding each product's ``held_out`` users (users x products), if it beats the
    ``fixed`` one clearly, and the record of the choice; None when fewer than
    ``min_products`` products have ``min_takers`` held-out users (module docstring)."""
    began = time.perf_counter()
    takers = held_out.tocsc()
    eligible = np.flatnonzero(np.diff(takers.indptr) >= min_takers)
    if not weights or len(eligible) < min_products:
        return None, {"note": f"{len(eligible)} products have {min_takers} held-out users, "
                              f"fewer than {min_products}: the fixed weight is kept"}
    rng = np.random.default_rng(seed)
    items = np.sort(rng.choice(eligible, min(n_products, len(eligible)), replace=False))
    sizes = audience_sizes(held_out.shape[0])
    active = activity(model)
    weights = tuple(sorted({*weights, fixed}))
    found: dict[float, list[float]] = {b: [] for b in weights}
    judged_any = False
    for i in items.tolist():
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        parts = audience_parts(model, i)
        judged = [n for n in sizes.values() if n < int(parts.cand.sum())]
        if not judged:
            continue
        judged_any = True
        for b in weights:
            top = top_users(parts.scores(b)[0], max(judged), active)
            found[b].append(float(np.mean([np.isin(top[:n], truth).sum() / len(truth)
                                           for n in judged])))
    if not judged_any:
        return None, {"note": "every audience size covers all candidates: the fixed weight "
                              "is kept"}
    recall = {b: float(np.mean(r)) for b, r in found.items()}
    best = max(weights, key=lambda b: (round(recall[b], 6), -b))
    gain = np.asarray(found[best]) - np.asarray(found[fixed])
    margin = twice_standard_error(gain)
    chosen = best if gain.mean() > margin else fixed
    return chosen, {"chosen": chosen, "best": best, "fixed": fixed, "products": len(gain),
                    "gain_over_fixed": round(float(gain.mean()), 4),
                    "two_standard_errors": round(margin, 4), "sizes": sizes,
                    "recall": {f"{b:g}": round(r, 4) for b, r in recall.items()},
                    "seconds": round(time.perf_counter() - began, 3)}


def choose_activity(model: HybridModel, held_out: sp.csr_matrix, first_takes: sp.coo_matrix,
                    category_weight: float, weights: tuple[float, ...],
                    fixed: tuple[float, float], *, n_products: int = 50, min_products: int = 10,
                    min_takers: int = 5, seed: int = 0
                    ) -> tuple[tuple[float, float] | None, dict[str, Any]]:
    """The best (activity weight, tau share) of ``weights`` x :data:`TAU_SHARES` for
    ``model`` (fitted on the validation training graph) at finding each product's
    ``held_out`` users from the time cut on, if it beats ``fixed`` clearly, and the record of
    the choice; None when too few products have ``min_takers`` such users (module docstring).
    ``first_takes``: (users x products) first take times of the whole graph."""
    from kg.interactions import NO_TIME

    began = time.perf_counter()
    hot = held_out.tocsr().copy()
    hot.data[:] = 1.0
    when = first_takes.tocsr().multiply(hot).tocoo()  # held-out pairs' times (NO_TIME kept)
    timed = when.data > NO_TIME
    if timed.sum() < min_takers * min_products:
        return None, {"note": f"{int(timed.sum())} held-out pairs have a time: the fixed "
                              "activity weight is kept"}
    cut = float(np.quantile(when.data[timed], CUT_QUANTILE))
    late = timed & (when.data >= cut)
    takers = sp.csc_matrix((np.ones(int(late.sum())), (when.row[late], when.col[late])),
                           shape=held_out.shape)
    eligible = np.flatnonzero(np.diff(takers.indptr) >= min_takers)
    if len(eligible) < min_products:
        return None, {"note": f"{len(eligible)} products have {min_takers} held-out users "
                              f"after the cut, fewer than {min_products}: the fixed activity "
                              "weight is kept"}
    rng = np.random.default_rng(seed)
    items = np.sort(rng.choice(eligible, min(n_products, len(eligible)), replace=False))
    sizes = audience_sizes(held_out.shape[0])
    active = activity(model)
    rates = {tau: take_rate(model.graph, tau, now=cut) for tau in {*TAU_SHARES, fixed[1]}}
    grid = sorted({fixed, *((a, tau) for a in weights for tau in TAU_SHARES)})
    found: dict[tuple[float, float], list[float]] = {g: [] for g in grid}
    for i in items.tolist():
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        parts = audience_parts(model, i)
        judged = [n for n in sizes.values() if n < int(parts.cand.sum())]
        if not judged:
            continue
        for a, tau in grid:
            top = top_users(parts.scores(category_weight, a, rates[tau])[0], max(judged),
                            active)
            found[(a, tau)].append(float(np.mean([np.isin(top[:n], truth).sum() / len(truth)
                                                  for n in judged])))
    if not found[fixed]:
        return None, {"note": "every audience size covers all candidates: the fixed activity "
                              "weight is kept"}
    recall = {g: float(np.mean(r)) for g, r in found.items()}
    best = max(grid, key=lambda g: (round(recall[g], 6), -g[0], g[1]))
    gain = np.asarray(found[best]) - np.asarray(found[fixed])
    margin = twice_standard_error(gain)
    chosen = best if gain.mean() > margin else fixed
    return chosen, {"chosen": list(chosen), "best": list(best), "fixed": list(fixed),
                    "cut": cut, "products": len(gain),
                    "gain_over_fixed": round(float(gain.mean()), 4),
                    "two_standard_errors": round(margin, 4),
                    "recall": {f"{a:g}@{tau:g}": round(r, 4) for (a, tau), r in recall.items()},
                    "seconds": round(time.perf_counter() - began, 3)}


def tune_audience(split: HoldoutSplit, config: HybridConfig, train: dict[str, Any],
                  blend: Blend, graph: KnowledgeGraph | None = None
                  ) -> tuple[HybridConfig, dict[str, Any]]:
    """``config`` with ``audience_category_weight`` chosen for the served ``blend`` of the
    components ``train`` fitted on ``split``'s training graph, then (given the whole
    ``graph``, whose take times cut the held-out pairs) ``audience_activity_weight`` and
    ``audience_activity_tau``, and the choices' record."""
    from kg.interactions import latest_times
    from recommend.hybrid.model import HybridModel
    from recommend.marketer.columns import TAKES

    probe = HybridModel(split.train_graph, config, {n: train[n] for n in blend.names}, blend)
    chosen, record = choose_category_weight(probe, split.relevant,
                                            config.audience_category_weights,
                                            config.audience_category_weight, seed=config.seed)
    if chosen is not None:
        config = dataclasses.replace(config, audience_category_weight=chosen)
    if graph is None or not config.audience_activity_weights:
        return config, record
    pick, record["activity"] = choose_activity(
        probe, split.relevant, latest_times(graph, TAKES, first=True),
        config.audience_category_weight, config.audience_activity_weights,
        (config.audience_activity_weight, config.audience_activity_tau), seed=config.seed)
    if pick is not None:
        config = dataclasses.replace(config, audience_activity_weight=pick[0],
                                     audience_activity_tau=pick[1])
    return config, record
