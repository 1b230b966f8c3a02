"""The audience half of ``bench/marketer.py``: datasets, the time cuts, the baselines, recall@n.

A global time cut at the 80th percentile of the purchase / cart / rating times splits each
dataset (:func:`time_cut`; the training graph keeps no edge from at or after the cut). Only
users known at the cut (an event before it) are ranked or counted as takers. For up to
``--products`` products with at least 5 test takers: recall@n and precision@n (n = 100,
1000 and 5% of users) of the audience and of two baselines.

The audience's taste blends the hybrid's item column with the users' activity in the
product's categories, weight ``b``, and multiplies it by the users' take rate to a power ``a``
(their expected takes in the coming period, a return model fitted on the training graph's own
past: :mod:`recommend.marketer.propensity`; ``rate_model`` records its fit); the build chooses
``b`` on its validation split, then ``b`` and ``a`` on a time cut of its own graph
(:mod:`recommend.marketer.tune`, :mod:`recommend.marketer.cut_choice`; ``build_choice``
records both). The test figures are given at the served weights (``audience``), at ``a = 0``
(``taste_only``, the audience before the rate), at ``a = 1`` (``with_rate``) and at
``b = a = 0``, the hybrid alone (``hybrid_only``).

The baselines rank the same candidates as the audience (users known at the cut without any
event on the product) on the same training graph. "The product's category" is every category
it is in: on ML-100K each film's genres and its decade (products sharing one: ~75% of the
catalogue), on Amazon 2018 beauty or fashion (two categories): there the category buyers are
close to the most active users overall, which is what makes them hard to beat.

An n at or above the number of users known at the cut lists every candidate, so every
method's recall there is 1.0 by construction; an n that lists at least half the candidates
(Amazon 2018: 1000 of ~1,180) is nearly so, a random list finding most takers and a 1.5x ratio
out of reach once the baseline finds two thirds. Either is reported under ``not_informative``
with no ratio (its recall stays in ``metrics``), and the issue's target (recall@1000 at least
1.5x the category buyers') is then judged at 5% of users (``target``). ``random_recall`` is
what a list of n drawn at random from the candidates would expect, how much each n says.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
TARGETS = ("purchased", "carted", "rated")
#: The demo worlds' size: n = 1000 must be well below the number of users.
DEMO_SIZE = ("--users", "5000", "--products", "800", "--posts", "8000")
#: name -> (import kind, source folder or demo seed)
AUDIENCE_SETS = {
    "demo-7": ("demo", "7"),
    "demo-8": ("demo", "8"),
    "ml-100k": ("movielens", "ml-100k"),
    "amazon2018-beauty-fashion": ("amazon-reviews", "amazon2018_5core_beauty_fashion"),
}


def import_dataset(kind: str, source: str, out: Path) -> None:
    args = (["import", "demo", "--out", str(out), "--no-images", "--seed", source, *DEMO_SIZE]
            if kind == "demo" else ["import", kind, str(SHARED / source), "--out", str(out)])
    subprocess.run([sys.executable, "-m", "scripts.cli", *args, "--no-progress"], check=True,
                   cwd=ROOT, capture_output=True)


def load_graph(folder: Path) -> Any:
    from kg.build import build_graph
    from kg.reader import read_dataset

    return build_graph(read_dataset(folder, progress=False).dataset, progress=False)


def time_cut(graph: Any, quantile: float = 0.8, *, enrich: bool = True
             ) -> tuple[Any, sp.csr_matrix, float]:
    """The training graph before the cut, the (users x products) test takers, the cut
    (:func:`recommend.marketer.timecut.time_cut`, the build's own time cut, here on the whole
    dataset). ``enrich``: add the profile stage's relations first (a training graph has
    them)."""
    from recommend.marketer.timecut import time_cut as cut_graph
    from recommend.profiles import enrich_graph

    if enrich:
        enrich_graph(graph, embeddings=False)
    found = cut_graph(graph, quantile, targets=TARGETS)
    if found is None:
        raise ValueError("the dataset has fewer than two timed takes: no time cut")
    return found.train, found.taken, found.cut


def category_buyers(graph: Any, i: int) -> np.ndarray:
    from kg.interactions import relation_matrix

    takes = (relation_matrix(graph, TARGETS) > 0).astype(np.float64).tocsr()
    cats = graph.matrix("in_category", "category", "product")
    same = np.asarray((cats @ cats[i].T).todense()).ravel() > 0
    score = np.asarray(takes[:, same].sum(axis=1)).ravel()
    activity = np.asarray(takes.sum(axis=1)).ravel()
    return score + activity / (activity.max() + 1.0) * 0.5


def neighbour_buyers(seen: sp.csr_matrix, i: int, k: int = 20) -> np.ndarray:
    col = seen[:, [i]].toarray().ravel()
    co = np.asarray(seen.T @ col).ravel()
    norms = np.sqrt(np.asarray(seen.sum(axis=0)).ravel() * max(col.sum(), 1.0))
    sim = np.divide(co, norms, out=np.zeros_like(co), where=norms > 0)
    sim[i] = 0.0
    near = np.argsort(-sim)[:k]
    w = np.zeros_like(sim)
    w[near] = sim[near]
    return np.asarray(seen @ w).ravel()


def ranked(scores: np.ndarray, exclude: np.ndarray, n: int) -> np.ndarray:
    s = scores.astype(np.float64).copy()
    s[exclude] = -np.inf
    order = np.lexsort((np.arange(len(s)), -s))
    return order[np.isfinite(s[order])][:n]




def sizes_of(n_users: int) -> dict[str, int]:
    """The audience sizes judged: 100, 1000 and 5% of users."""
    return {"100": 100, "1000": 1000, "5%": max(1, n_users // 20)}


#: The activity weights swept on the test, as a diagnostic (bench only).
DIAGNOSTIC_A = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def known_takers(model: Any, taken: sp.csr_matrix, n_products: int
                 ) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """The takers among users known at the cut (columns), those unknown, and up to
    ``n_products`` products with at least 5 takers (seeded choice)."""
    known = np.diff(model.seen_.indptr) > 0
    taken = (sp.diags(known.astype(np.float64)) @ taken).tocsr()
    taken.eliminate_zeros()
    takers = taken.tocsc()
    eligible = np.flatnonzero(np.diff(takers.indptr) >= 5)
    rng = np.random.default_rng(0)
    items = np.sort(rng.choice(eligible, min(n_products, len(eligible)), replace=False))
    return takers, np.flatnonzero(~known), items


def audience_list(parts: Any, unknown: np.ndarray, active: np.ndarray, n: int,
                  weights: tuple[float, float], rate: np.ndarray) -> np.ndarray:
    """The audience of a product's :class:`~recommend.marketer.audience.AudienceParts` at
    ``weights`` (category, activity; the users' take ``rate``), users known only."""
    from recommend.marketer.audience import top_users

    scores = parts.score(*weights, rate)
    scores[unknown] = -np.inf
    return top_users(scores, n, active)


def diagnostic_summary(recall_5: dict[tuple[float, float], list[float]],
                       baseline: float) -> dict[str, Any]:
    """The best recall at 5% of users on the test over every (b, a) swept, and the best
    per activity weight ``a``, against the category buyers': what any weight could reach (a
    diagnostic of the score's form, never a choice)."""
    mean = {w: float(np.mean(r)) for w, r in recall_5.items() if r}
    if not mean:
        return {}

    def told(w: tuple[float, float]) -> dict[str, Any]:
        return {"category": w[0], "activity": w[1], "recall@5%": round(mean[w], 4),
                "vs_category": round(mean[w] / max(baseline, 1e-9), 3)}

    best = max(mean, key=lambda w: mean[w])
    per_a = {f"{a:g}": told(max((w for w in mean if w[1] == a), key=lambda w: mean[w]))
             for a in sorted({w[1] for w in mean})}
    return {"note": "best over the weights swept, measured on the test itself: a diagnostic "
                    "of what the score's form can reach, not a choice",
            "best": told(best), "best_by_activity_weight": per_a}


def recall(top: np.ndarray, truth: np.ndarray, sizes: dict[str, int]) -> dict[str, float]:
    return {label: float(np.isin(top[:s], truth).sum() / len(truth))
            for label, s in sizes.items()}


def target_judgement(vs_category: dict[str, float | None], not_informative: dict[str, str]
                     ) -> dict[str, Any]:
    """Where the issue's target (audience recall@1000 >= 1.5x the category buyers') is
    judged: at n = 1000, or at 5% of users when 1000 covers every user known at the cut."""
    n = "1000" if "1000" not in not_informative else "5%"
    ratio = vs_category[n]
    out: dict[str, Any] = {"n": n, "recall_vs_category": ratio,
                           "met": None if ratio is None else ratio >= 1.5}
    if n != "1000":
        out["note"] = ("judged at n = 5% of users instead of 1000, which is not informative "
                       "here (see not_informative); n = 100 is reported beside it")
    return out


def audience_case(name: str, kind: str, source: str, work: Path, n_products: int
                  ) -> tuple[dict[str, Any], Any, Any]:
    """One dataset's audience figures (module doc), the fitted model, the products judged."""
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.fit import fit_hybrid
    from recommend.marketer.audience import activity, audience_parts, find_audience
    from recommend.marketer.propensity import fit_return_model, take_rate

    folder = work / name
    import_dataset(kind, source, folder)
    graph = load_graph(folder)
    began = time.perf_counter()
    train, taken, cut = time_cut(graph)
    model = fit_hybrid(train, HybridConfig())
    fit_s = time.perf_counter() - began
    n_users = train.num_nodes("user")
    sizes = sizes_of(n_users)
    takers, unknown, items = known_takers(model, taken, n_products)
    known = n_users - len(unknown)
    active = activity(model)
    seen = model.seen_
    config = model.config
    b, a = config.audience.category_weight, config.audience.activity_weight
    # what the build served before the time-cut choice: the validation's b, no rate
    b_before = (model.info.get("audience") or {}).get("chosen",
                                                      HybridConfig().audience.category_weight)
    weights = {"audience": (b, a), "before_time_cut": (b_before, 0.0),
               "taste_only": (b, 0.0), "with_rate": (b, 1.0), "hybrid_only": (0.0, 0.0)}
    sweep = [(b_, a_) for b_ in sorted({0.0, b, b_before, 1.0}) for a_ in DIAGNOSTIC_A]
    rate = take_rate(model.graph)
    diagnostic: dict[tuple[float, float], list[float]] = {w: [] for w in sweep}
    methods = (*weights, "category_buyers", "neighbour_buyers")
    metrics: dict[str, dict[str, list[float]]] = {
        m: {f"{k}@{s}": [] for s in sizes for k in ("recall", "precision")} for m in methods}
    random_recall: dict[str, list[float]] = {s: [] for s in sizes}
    times: list[float] = []
    for i in items.tolist():
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        have = np.union1d(seen[:, [i]].tocoo().row, unknown)
        for label, s in sizes.items():  # a list of s drawn at random from the candidates
            random_recall[label].append(min(1.0, s / max(n_users - len(have), 1)))
        t0 = time.perf_counter()  # the served audience: the columns, then its weight
        parts = audience_parts(model, i)
        lists = {"audience": audience_list(parts, unknown, active, max(sizes.values()),
                                           weights["audience"], rate)}
        times.append(time.perf_counter() - t0)
        for m in ("before_time_cut", "taste_only", "with_rate", "hybrid_only"):
            lists[m] = audience_list(parts, unknown, active, max(sizes.values()), weights[m],
                                     rate)
        for w in sweep:  # a diagnostic on the test: never a choice
            top = audience_list(parts, unknown, active, sizes["5%"], w, rate)
            diagnostic[w].append(float(np.isin(top, truth).sum() / len(truth)))
        lists["category_buyers"] = ranked(category_buyers(train, i), have, max(sizes.values()))
        lists["neighbour_buyers"] = ranked(neighbour_buyers(seen, i), have, max(sizes.values()))
        for m, top in lists.items():
            for label, r in recall(top, truth, sizes).items():
                metrics[m][f"recall@{label}"].append(r)
                metrics[m][f"precision@{label}"].append(r * len(truth) / sizes[label])
    explained, shown, explain_s = [], [], []
    for i in items[:20].tolist():
        t0 = time.perf_counter()
        aud = find_audience(model, train.node_id("product", i), 100)
        explain_s.append(time.perf_counter() - t0)
        explained.append(np.mean([bool(m.paths or m.withheld) for m in aud.members]))
        shown.append(np.mean([bool(m.paths) for m in aud.members]))
    not_informative = {
        s_: (f"n = {v} >= the {known} users known at the cut: every ranking lists every "
             "candidate, so every method's recall is 1.0 by construction") if v >= known else
        (f"n = {v} lists {np.mean(random_recall[s_]):.0%} of the candidates (of the {known} "
         "users known at the cut): a random list finds as many of the takers, and a ratio "
         "of 1.5 needs the baseline's recall below 0.67")
        for s_, v in sizes.items() if v >= known or np.mean(random_recall[s_]) >= 0.5}
    mean = {m: {k: float(np.mean(v)) for k, v in d.items()} for m, d in metrics.items()}

    def ratio(method: str, base: str) -> dict[str, float | None]:
        return {s_: None if s_ in not_informative else round(
            mean[method][f"recall@{s_}"] / max(mean[base][f"recall@{s_}"], 1e-9), 3)
            for s_ in sizes}

    out = {
        "users": n_users, "users_known_at_cut": known, "products_evaluated": len(items),
        "eligible_products": int((np.diff(takers.indptr) >= 5).sum()), "cut": cut,
        "fit_seconds": round(fit_s, 1), "blend": model.blend.kind,
        "weights": {m: {"category": w[0], "activity": w[1]} for m, w in weights.items()},
        "rate_model": fit_return_model(model.graph).record,
        "build_choice": model.info.get("audience"),
        "metrics": {m: {k: round(v, 4) for k, v in d.items()} for m, d in mean.items()},
        "random_recall": {s_: round(float(np.mean(v)), 4) for s_, v in random_recall.items()},
        "not_informative": not_informative,
        "recall_vs_category": ratio("audience", "category_buyers"),
        "recall_vs_neighbours": ratio("audience", "neighbour_buyers"),
        "taste_only_vs_category": ratio("taste_only", "category_buyers"),
        "with_rate_vs_category": ratio("with_rate", "category_buyers"),
        "hybrid_only_vs_category": ratio("hybrid_only", "category_buyers"),
        "before_time_cut_vs_category": ratio("before_time_cut", "category_buyers"),
        "diagnostic_on_test": diagnostic_summary(
            diagnostic, mean["category_buyers"]["recall@5%"]),
        "target": target_judgement(ratio("audience", "category_buyers"), not_informative),
        "explained_share": round(float(np.mean(explained)), 4) if explained else None,
        "shown_path_share": round(float(np.mean(shown)), 4) if shown else None,
        "score_ms": {"p50": round(1000 * float(np.median(times)), 2),
                     "p95": round(1000 * float(np.quantile(times, 0.95)), 2)},
        "explained_100_ms_p50": round(1000 * float(np.median(explain_s)), 1),
    }
    return out, model, items
