"""The audience's weights chosen by the build on a time cut of its own training data.

The audience (:mod:`recommend.marketer.audience`) scores ``log(taste) + a * log(rate)``, the
taste ``(1 - b) * hybrid + b * category`` and the rate each user's expected takes in the
coming period (:mod:`recommend.marketer.propensity`). What it is asked, and what the bench
judges, is who takes a product *in the coming period*. The build's validation split cannot
judge ``a``: it holds out each user's latest products but keeps their other takes of the
same days, so the probe's taste already knows who was active then (ML-100K: 0.57 recall
without the rate, 0.40 to 0.54 with it, where the bench's true time cut says the opposite).
Reusing the validation model is not leak-free for the same reason: its training graph holds
every take after any global cut except the held-out pairs.

So the build cuts its own graph in time (:func:`recommend.marketer.timecut.time_cut`, the
80th percentile of the take times, as the bench cuts the data it is given), refits the
served blend's components on the graph before the cut with their tuned settings and the
meta-path weights already fitted (the refit recipe of :mod:`recommend.hybrid.fit`: nothing is
tuned again; the content index, which does not depend on interactions, is shared; a linear
blend's components of weight 0 are left out, as they add nothing to the audience), and
judges every ``(b, a)`` of the config's grids (``audience.category_weights``,
``audience.activity_weights``; an empty grid keeps the config's value) by its recall, at 5% of
users, of each product's takers after the cut (users known before it, pairs new after it),
over up to ``n_products`` products with at least ``min_takers`` of them (a seeded choice;
fewer than ``min_products`` keep the weights). The rate judged is the one the graph before
the cut gives, its return model fitted on that graph's own past, as the served rate is on the
whole graph's. The best mean recall (ties: the smaller ``a``, then ``b``) replaces the weights
the build had (the validation's ``b``, the fixed ``a``) only when its paired per-product gain
over them exceeds twice its standard error: the grid's maximum is a biased estimate of its
worth.

Cost. The refit costs about what the validation fit did; the judging costs products x
settings x users. So each product is judged on at most ``MAX_USERS`` users
(:func:`judged_users`): all its takers and a seeded sample of the other known candidates,
each standing for ``1 / share`` of them; a taker is in the 5% when the users ranked above it
stand for fewer than 5% of users (:func:`sampled_recall`). At the boundary a taker's
estimated rank ``n / 20`` rests on about ``MAX_USERS / 20`` sampled users above it, a
relative error of ``sqrt(20 / MAX_USERS)`` (3%), shared by every setting (the same sample):
the comparison is paired. Up to ``MAX_USERS`` users the recall is exact.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from recommend.hybrid.blend import Blend, record_float, twice_standard_error
from recommend.marketer.audience import AudienceParts, activity, audience_parts
from recommend.marketer.propensity import fit_return_model, take_rate
from recommend.marketer.timecut import time_cut

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig

__all__ = ["MAX_USERS", "audience_blend", "choose_on_cut", "grid_recall", "judged_users",
           "pick_weights", "sampled_recall"]

Weights = tuple[float, float]  # (category b, activity a)
MAX_USERS = 20_000  # users a product is judged on at most (module docstring)


def choose_on_cut(graph: KnowledgeGraph, config: HybridConfig, blend: Blend,
                  shared: FitShared, *, quantile: float = 0.8, n_products: int = 50,
                  min_products: int = 10, min_takers: int = 5
                  ) -> tuple[HybridConfig, dict[str, Any]]:
    """``config`` with the audience's weights chosen on ``graph``'s time cut for the served
    ``blend`` (its components refitted before the cut with ``shared``: the content component
    and the path states), and the record (module docstring)."""
    grid = _grid(config)
    default = (config.audience.category_weight, config.audience.activity_weight)
    if len(grid) < 2:
        return config, {"note": "one setting to judge: kept"}
    began = time.perf_counter()
    cut = time_cut(graph, quantile, derived=config.split.derived_relations)
    if cut is None:
        return config, {"note": "fewer than 2 timed takes: the weights are kept"}
    probe = _probe(cut.train, config, blend, shared)
    if probe is None:
        return config, {"note": "a blended component has no evidence before the time cut: "
                                "the weights are kept"}
    refit = time.perf_counter() - began
    takers = cut.known_takers(np.diff(probe.seen_.indptr) > 0)
    found = grid_recall(probe, takers, grid, n_products=n_products, min_products=min_products,
                        min_takers=min_takers, seed=config.seed)
    if isinstance(found, str):
        return config, {"note": found + ": the weights are kept"}
    recall, products, size = found
    chosen, best, gain, margin = pick_weights(recall, default)
    mean = {w: float(np.mean(r)) for w, r in recall.items()}
    config = config.updated(audience={"category_weight": chosen[0], "activity_weight": chosen[1]})
    by_a = {f"{a:g}": round(max(m for w, m in mean.items() if w[1] == a), 4)
            for a in sorted({w[1] for w in grid})}
    top = sorted(mean, key=lambda w: -mean[w])[:10]
    return config, {"chosen": _label(chosen), "best": _label(best),
                    "default": _label(default), "cut": cut.cut, "products": products,
                    "size": size, "gain_over_default": round(gain, 4),
                    "two_standard_errors": record_float(margin, 4),
                    "recall": {"chosen": round(mean[chosen], 4),
                               "default": round(mean[default], 4),
                               "best_by_activity_weight": by_a,
                               "top": {_label(w): round(mean[w], 4) for w in top}},
                    # the rate judged (fitted before the cut) and the one served
                    "rate_before_cut": fit_return_model(probe.graph).record,
                    "rate_served": fit_return_model(graph).record,
                    "seconds": round(time.perf_counter() - began, 2),
                    "seconds_refit": round(refit, 2)}


def pick_weights(recall: dict[Weights, list[float]], default: Weights
                 ) -> tuple[Weights, Weights, float, float]:
    """The setting served (the best mean recall, ties to the smaller ``a`` then ``b``, if its
    paired per-product gain over ``default`` exceeds twice its standard error, else
    ``default``), the best, the gain and the margin."""
    mean = {w: float(np.mean(r)) for w, r in recall.items()}
    best = max(mean, key=lambda w: (round(mean[w], 6), -w[1], -w[0]))
    gain = np.asarray(recall[best]) - np.asarray(recall[default])
    margin = twice_standard_error(gain)
    return (best if gain.mean() > margin else default), best, float(gain.mean()), margin


def _grid(config: HybridConfig) -> list[Weights]:
    """Every (b, a) judged, each grid (or the config's value) with the config's own
    setting."""
    bs = sorted({*config.audience.category_weights, config.audience.category_weight})
    as_ = sorted({*config.audience.activity_weights, config.audience.activity_weight})
    return [(b, a) for b in bs for a in as_]


def _label(w: Weights) -> str:
    return f"b={w[0]:g} a={w[1]:g}"


def audience_blend(blend: Blend) -> Blend:
    """The part of ``blend`` an audience can use: a linear blend without its components of
    weight 0 (their columns would be multiplied by 0), a ``gbdt`` one whole; the blend itself
    when every weight is 0."""
    keep = np.flatnonzero(np.asarray(blend.weights) != 0)
    if blend.kind == "gbdt" or len(keep) in (0, len(blend.names)):
        return blend
    return Blend(tuple(blend.names[j] for j in keep), np.asarray(blend.weights)[keep],
                 blend.kind, blend.validation)


def _probe(graph: KnowledgeGraph, config: HybridConfig, blend: Blend, shared: FitShared
           ) -> Any:
    """The served blend over its components refitted on ``graph``, those of weight 0 left
    out (:func:`audience_blend`; None when one has no evidence there)."""
    from recommend.hybrid.component import component_type
    from recommend.hybrid.model import HybridModel

    blend = audience_blend(blend)
    comps = {}
    for name in blend.names:
        comp = component_type(name).from_graph(graph, config, shared)
        if comp is None:
            return None
        comps[name] = comp
    return HybridModel(graph, config, comps, blend)


def grid_recall(model: Any, takers: Any, grid: list[Weights], *, n_products: int,
                min_products: int, min_takers: int, seed: int, max_users: int = MAX_USERS
                ) -> tuple[dict[Weights, list[float]], int, int] | str:
    """Each setting's recall, at 5% of users, of ``takers`` (users x products, CSC: the takes
    after the cut of users known before it) for each judged product of ``model`` (fitted
    before the cut), the number of products and the audience size; or why none is judged.
    Only users with a product event on ``model``'s graph are ranked, on a sample of at most
    ``max_users`` of them per product (:func:`sampled_recall`)."""
    eligible = np.flatnonzero(np.diff(takers.indptr) >= min_takers)
    if len(eligible) < min_products:
        return (f"{len(eligible)} products have {min_takers} takers after the time cut, "
                f"fewer than {min_products}")
    rng = np.random.default_rng(seed)
    items = np.sort(rng.choice(eligible, min(n_products, len(eligible)), replace=False))
    known = np.diff(model.seen_.indptr) > 0
    size = max(1, model.graph.num_nodes("user") // 20)
    active = activity(model)
    rate = take_rate(model.graph) if any(a > 0 for _, a in grid) else None
    recall: dict[Weights, list[float]] = {w: [] for w in grid}
    for i in items.tolist():
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        parts = audience_parts(model, i)
        pool = parts.cand & known
        if size >= int(pool.sum()):
            continue  # a list of everyone says nothing
        users, weights = judged_users(pool, truth, max_users, rng)
        keep = np.union1d(users, _lowest(parts, grid))
        weight = np.zeros(len(keep))
        weight[np.searchsorted(keep, users)] = weights
        weight[~pool[keep]] = 0.0
        taker = np.isin(keep, truth)
        sub = AudienceParts(parts.hybrid[keep], parts.category[keep], parts.cand[keep],
                            parts.method, None if rate is None else rate[keep])
        for b, a in grid:
            scores = sub.score(b, a)
            scores[~pool[keep]] = -np.inf
            recall[(b, a)].append(sampled_recall(scores, weight, taker, active[keep], size)
                                  / len(truth))
    products = len(recall[grid[0]])
    if products < min_products:
        return f"{products} products judged (5% of users lists every candidate of the rest)"
    return recall, products, size


def judged_users(pool: np.ndarray, truth: np.ndarray, max_users: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The users a product is judged on (sorted) and the number of ``pool`` users each
    stands for: every taker (``truth``, all in ``pool``) for itself, and the other ``pool``
    users all (weight 1) when there are at most ``max_users`` in all, else a seeded sample
    of ``max_users`` less the takers of them, each standing for ``1 / share`` sampled."""
    others = np.flatnonzero(pool)
    others = others[~np.isin(others, truth)]
    room = max(max_users - len(truth), 1)
    share = min(1.0, room / max(len(others), 1))
    if share < 1.0:
        others = np.sort(rng.choice(others, room, replace=False))
    users = np.concatenate([truth, others])
    weights = np.concatenate([np.ones(len(truth)), np.full(len(others), 1.0 / share)])
    order = np.argsort(users, kind="stable")
    return users[order], weights[order]


def sampled_recall(scores: np.ndarray, weight: np.ndarray, taker: np.ndarray,
                   active: np.ndarray, size: int) -> int:
    """How many of the judged users marked ``taker`` rank in the top ``size`` of the whole
    pool: ranked as :func:`~recommend.marketer.audience.top_users` ranks (finite scores,
    ties to the more active, then the earlier), a taker is in when the users ranked above it
    stand for fewer than ``size`` (``weight``: how many each judged user stands for). With
    every weight 1 this is exactly the takers among :func:`top_users`' ``size``."""
    ok = np.flatnonzero(np.isfinite(scores))
    order = ok[np.lexsort((ok, -active[ok], -scores[ok]))]
    above = np.cumsum(weight[order]) - weight[order]
    return int((taker[order] & (above < size)).sum())


def _lowest(parts: AudienceParts, grid: list[Weights]) -> np.ndarray:
    """The candidates with the lowest taste at each ``b`` of ``grid`` with ``a`` > 0: the
    rate's scores are shifted by that minimum over all candidates, so a judged sample
    keeps them to score as the whole would."""
    found = [np.where(parts.cand, parts.score(b), np.inf).argmin()
             for b in sorted({w[0] for w in grid if w[1] > 0})]
    return np.asarray(found if parts.cand.any() else [], np.int64)
