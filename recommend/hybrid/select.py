"""What is served: the ranker that wins on validation users nothing was fitted on.

The blend is fitted on one part of the validation users; on the other part (the selection
fold) every candidate ranker is scored by NDCG@k over the same candidate pool. Where too
few users can be set apart, the blend is cross-fitted instead (:func:`cross_fit_parts`,
:func:`cross_fitted`): each user is scored by a blend fitted without them, so every
validation user judges it out of sample. Either way every candidate ranker is scored: the
blend, each component alone (popularity among them, and the CF model that tuning chose
among item-kNN, EASE and ALS) and the item-kNN baseline (:mod:`recommend.hybrid.baseline`),
on every validation fold (by time and at random when the timestamps allow both).
:func:`choose_served` serves the blend unless a single component has a better worst ratio
to each fold's best and beats the blend beyond twice the standard error of its gain where
the blend falls shortest: the blend judged there was fitted on fewer users than the one
served, and a part served in its place where the blend was better costs far more than the
reverse. Where the validation held out both each user's latest
products and earlier ones at random, :func:`by_part` records every ranker's figure on each
part (what the choice trades between "what comes next" and "anything") and the blend's
paired gain over each part's best single component, with its noise, each part scored as its
own test would be (:func:`kind_scores`: the other part's held-out items dropped from the
candidates, not counted as misses). :func:`candidate_size`
sizes that pool from the held-out items' ranks, so the blend sees the items it must learn
to put first. :func:`confirm_tuned` judges the CF tuning's winner against the untuned model
on these users too, before anything is blended; where CF families are within noise of each
other alone, :func:`confirm_by_blend` keeps the one whose served ranker validates best there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from kg.interactions import seen_matrix
from recommend.hybrid.blend import Blend, held_labels, ndcg_rows, record_float, twice_standard_error
from recommend.hybrid.candidates import seen_prior, tie_broken

_BATCH = 256
S = TypeVar("S")
R = TypeVar("R")
K = TypeVar("K")


def selection_fold(users: np.ndarray, share: float, seed: int, minimum: int = 20
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(fit users, selection users): ``share`` of ``users`` set apart at random; with fewer
    than ``minimum`` users on either side, both are all ``users`` (the blend is then judged
    cross-fitted: :func:`cross_fitted`)."""
    n_select = round(len(users) * share)
    if n_select < minimum or len(users) - n_select < minimum:
        return users, users
    rng = np.random.default_rng(seed + 1)
    chosen = np.zeros(len(users), bool)
    chosen[rng.choice(len(users), n_select, replace=False)] = True
    return users[~chosen], users[chosen]


def cross_fit_parts(n: int, parts: int, seed: int) -> np.ndarray:
    """Each of ``n`` users' cross-fitting part: ``min(parts, n)`` parts at random, their
    sizes at most one apart."""
    rng = np.random.default_rng(seed + 2)
    out = np.empty(n, np.int64)
    out[rng.permutation(n)] = np.arange(n) % max(min(parts, n), 1)
    return out


def cross_fitted(fit: Callable[[np.ndarray], Blend], features: np.ndarray,
                 design: np.ndarray | None, rows: np.ndarray, part: np.ndarray) -> np.ndarray:
    """The score of every candidate (``rows``: its row of ``part``) by the blend ``fit``
    returns for the rows of the other parts (``fit(keep)``, ``keep`` a mask over ``part``):
    no row is scored by a blend fitted on it, so its NDCG is out of sample."""
    scores = np.zeros(len(rows))
    for c in np.unique(part):
        on = part[rows] == c
        blend = fit(part != c)
        scores[on] = blend.score(features[on], None if design is None else design[on])
    return scores


def confirm_tuned(winner: np.ndarray, untuned: np.ndarray, bar: float = 0.0
                  ) -> tuple[bool, dict[str, Any]]:
    """Whether the tuning's winner replaces the untuned model, from each one's per-user
    NDCG on users set apart from the tuning (paired, in the same order), and the record:
    both figures, the mean gain, its standard error and the bar it had to clear.

    The winner was picked as the best of many trials on the tuning users, so its gain
    there is inflated by the max; on users that took no part in picking it, its paired
    mean gain is an unbiased estimate of the true gain. Within a family (``bar`` 0) the
    rule is its sign (mean gain > 0), not a significance bar: the settings differ by one
    hyper-parameter, a wrong keep costs as much NDCG as a wrong switch of the same size,
    and the sign of an unbiased estimate is the choice with the least expected loss. A
    switch of family asks for ``bar`` standard errors (:func:`beyond_noise`).
    """
    gain = np.asarray(winner, np.float64) - np.asarray(untuned, np.float64)
    mean = float(gain.mean()) if len(gain) else 0.0
    se = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else np.inf
    record = {"users": len(gain), "winner": round(float(np.mean(winner)), 5) if len(gain)
              else 0.0, "untuned": round(float(np.mean(untuned)), 5) if len(gain) else 0.0,
              "gain": round(mean, 5), "se": record_float(se, 5), "bar_se": bar}
    return (mean > 0 if bar == 0 else beyond_noise(gain, bar)), record


def beyond_noise(gain: np.ndarray, bar: float = 2.0) -> bool:
    """Whether a paired per-user ``gain`` is above ``bar`` standard errors of its mean (never
    with fewer than two users: no noise estimate)."""
    gain = np.asarray(gain, np.float64)
    if len(gain) < 2:
        return False
    return bool(gain.mean() > bar * gain.std(ddof=1) / np.sqrt(len(gain)))


def confirm_by_blend(contenders: Sequence[tuple[str, S]],
                     judge: Callable[[S], tuple[dict[str, float], np.ndarray, dict[str, Any],
                                                R]],
                     budget: float, bar: float) -> tuple[R, dict[str, Any]]:
    """What ``judge`` made of the contender (name, CF settings) whose served ranker validates
    best, and the record: each contender's figures (what ``judge`` records, its worst ratio
    over the folds, its CPU and wall seconds), the ones skipped, and the choice.

    ``judge(settings)`` fits the blend around that CF model and chooses what is served
    (:func:`choose_served`), returning that ranker's NDCG@k on the selection users (or
    cross-fitted) per validation fold, its per-user NDCG@k there (the same users in the
    same order for every contender, the folds side by side), its record and the result.
    The first contender (the CF tuning's choice) is always judged; the others (families the
    tuning users could not tell apart from it alone:
    :func:`recommend.hybrid.tune.close_families`) while their CPU time (of the building
    thread) stays within ``budget``, what the CF tuning left of its own.

    The rule is :func:`choose_served`'s: each contender is judged by its worst ratio over the
    folds to the best contender of that fold (with one fold, its figure), and another
    contender replaces the first only with a higher worst ratio *and* a paired per-user
    gain over the first's served ranker above ``bar`` standard errors
    (:func:`beyond_noise`; ``cf.switch_se`` in the build); the highest worst ratio of those
    wins. The sign alone switched families on noise: on Amazon 2018 Fashion (194 selection
    users) the blend around ALS validated 0.7530 against 0.7514 around the tuned EASE (0.36
    SE), was served, and tested 0.9371 where the blend around EASE tests 0.9446; two SE
    turned down ALS on demo-9 at random (1.06 SE ahead) and on Beauty+Fashion (1.84 SE),
    whose blends tested 0.3303 and 0.9526 against EASE's 0.3222 and 0.9500.
    Not over the parts of a mixed fold (each user's latest held-out products, the earlier
    ones): on ML-100K the ranker served around ALS (cf alone) fell 9% short of EASE's blend
    on the latest ones, EASE's blend 8% short of it on the earlier ones, and that rule
    served EASE's blend: by time the test
    rose 0.2419 -> 0.2502 but at random it fell 0.4592 -> 0.4364 (below cf alone and EASE),
    a worse worst ratio over the two tests than keeping ALS (those part figures were scored
    with the other part's held-out items counted as misses, as :func:`by_part` then did;
    the test figures stand). The winner is the best of a few
    on the users that also choose among its rankers; with at most three families that bias
    is small beside the choice.
    """
    judged: list[tuple[str, dict[str, float], np.ndarray, R]] = []
    record: dict[str, Any] = {"contenders": {}, "skipped": []}
    spent = 0.0
    for j, (name, settings) in enumerate(contenders):
        if j and spent >= budget:
            record["skipped"].append(name)
            continue
        began, cpu = time.perf_counter(), time.thread_time()
        kinds, per_user, figures, result = judge(settings)
        used = time.thread_time() - cpu
        spent += used if j else 0.0
        judged.append((name, kinds, np.asarray(per_user, np.float64), result))
        record["contenders"][name] = {**figures,
                                      "ndcg": {n: round(v, 5) for n, v in kinds.items()},
                                      "cpu_seconds": round(used, 3),
                                      "seconds": round(time.perf_counter() - began, 3)}
    if not judged:
        raise ValueError("confirm_by_blend needs at least one contender")
    shared = set.intersection(*(set(kinds) for _, kinds, _, _ in judged))
    ratio = ratios_to_best({n: {name: kinds[n] for name, kinds, _, _ in judged}
                            for n in shared})
    worst = [min(ratio.get(name, {}).values(), default=1.0) for name, _, _, _ in judged]
    first = judged[0][2]
    chosen = 0
    for j, (name, _, per_user, _) in enumerate(judged):
        entry = record["contenders"][name]
        entry["worst_ratio"] = round(worst[j], 5)
        if j == 0:
            continue
        paired = len(per_user) == len(first) > 0
        gain = per_user - first if paired else np.zeros(0)
        entry["gain_over_first"] = round(float(gain.mean()), 5) if paired else None
        entry["twice_se"] = record_float(twice_standard_error(gain), 5) if paired else None
        if worst[j] > worst[chosen] and beyond_noise(gain, bar):
            chosen = j
    record["chosen"] = judged[chosen][0]
    record["rule"] = f"higher worst ratio and paired gain over the first > {bar:g} SE"
    return judged[chosen][3], record


def ratios_to_best(by_fold: Mapping[K, Mapping[str, float]]) -> dict[str, dict[K, float]]:
    """Each ranker's figure over the best one of the same fold (``by_fold``: fold -> ranker
    -> figure; 1.0 where the best is 0), per ranker and fold."""
    out: dict[str, dict[K, float]] = {}
    for f, figures in by_fold.items():
        best = max(figures.values())
        for n, v in figures.items():
            out.setdefault(n, {})[f] = v / best if best > 0 else 1.0
    return out


def choose_served(blend: Blend, features: np.ndarray, design: np.ndarray | None,
                  rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix,
                  only: np.ndarray, k: int, fold: np.ndarray | None = None,
                  fold_names: Sequence[str] = (), scores: np.ndarray | None = None,
                  extra: Mapping[str, np.ndarray] | None = None,
                  per_user_out: dict[str, np.ndarray] | None = None
                  ) -> tuple[str, dict[str, Any]]:
    """What is served among ``blend``, each component alone and the ``extra`` rankers
    (name -> score of each candidate pair, as ``features``' rows: the item-kNN baseline,
    :mod:`recommend.hybrid.baseline`), judged on the rows where ``only`` is True
    (candidates as the blend sees them); ``fold``: each row's validation fold (None: one
    fold); ``scores``: the blend's score of each candidate when it is not ``blend``'s own
    (cross-fitted: :func:`cross_fitted`). Returns the choice ("blend", a component's or an
    extra ranker's name) and the record: every ranker's NDCG@k over all those rows and per
    fold, its worst ratio to a fold's best, and the challenger's paired gain. An extra
    ranker is judged like a single component. ``per_user_out`` (when given) receives every
    ranker's per-row NDCG@k over those rows (:func:`rankers_per_user`): what
    :func:`confirm_by_blend` pairs across CF models.

    The rule: the served ranker must not fall below a part on *any* kind of held-out item,
    so each ranker is judged by its worst ratio over the folds to that fold's best ranker.
    The blend (fitted on every fold, and able to weigh a single component alone) is the
    default; the single component with the highest worst ratio replaces it only when that
    ratio is higher than the blend's and, on the fold where the blend falls furthest short,
    its paired per-user NDCG gain over the blend is above twice its standard error. Each
    row's blend score comes from a blend not fitted on that row's user: one fitted on the
    other half of the validation users (a selection fold) or on the other parts
    (``scores``: cross-fitted, too few users to set a fold apart). Either way it is a
    weaker blend than the one served, refitted on all of them, so its figure is
    pessimistic; and the two wrong choices did not cost alike on the benches' test splits
    (NDCG@10): a part served by the rule before (the sign of the gain; cross-fitted, one
    SE) where the blend was better lost 0.085
    (``bench/shapes.py`` control by time, 36 selection users: cf ahead by 0.1 SE, tested
    0.344 against the blend's 0.428), 0.046 and 0.158 (tiny by time and at random,
    cross-fitted: graph ahead by 1.3-1.7 SE); the blend served by this bar where a part was
    better lost 0.006 (ML-100K at random, 472 users: cf ahead by 0.96 SE) and 0.020
    (ratings-explicit at random, 75 users: cf ahead by 1.3 SE; served, EASE's blend). Session
    23, "cf alone unless the blend's paired gain over it > 0 or 0.5 SE": on Fashion every CF
    contender then served cf alone, ALS's validated best, and the test fell 0.9446 -> 0.9348;
    "the simplest within 1 SE of the best" (cf first): ML-100K random 0.4455 -> 0.4505, Fashion
    0.9356 (popularity), demo-8 random 0.2903 -> 0.2544, control by time 0.4261 -> 0.3436.
    """
    fold = np.zeros(relevant.shape[0], np.int64) if fold is None else np.asarray(fold)
    names = list(fold_names) or [str(f) for f in range(int(fold.max(initial=0)) + 1)]
    per_user = rankers_per_user(blend, features, design, rows, items, relevant, only, k,
                                scores, extra)
    if per_user_out is not None:
        per_user_out.update(per_user)
    row_fold = fold[np.flatnonzero(only)]
    folds = [f for f in range(len(names)) if (row_fold == f).any()]
    means = {f: {n: float(v[row_fold == f].mean()) for n, v in per_user.items()}
             for f in folds}
    ratio = {n: {} for n in per_user} | ratios_to_best(means)
    worst = {n: min(r.values(), default=1.0) for n, r in ratio.items()}
    record: dict[str, Any] = {
        f"ndcg@{k}": {n: round(float(v.mean()), 5) if len(v) else 0.0
                      for n, v in per_user.items()},
        "worst_ratio": {n: round(v, 5) for n, v in worst.items()}}
    if len(folds) > 1:
        record[f"ndcg@{k}_by_fold"] = {names[f]: {n: round(v, 5) for n, v in means[f].items()}
                                       for f in folds}
    singles = [n for n in per_user if n != "blend"]
    if not singles or not folds:
        return "blend", record
    challenger = max(singles, key=lambda n: worst[n])  # the first of equals
    short = min(folds, key=lambda f: ratio["blend"][f])
    gain = per_user[challenger][row_fold == short] - per_user["blend"][row_fold == short]
    margin = twice_standard_error(gain)
    record["challenger"] = {"name": challenger, "fold": names[short],
                            "gain": round(float(gain.mean()), 5),
                            "twice_se": record_float(margin, 5), "rule": "gain > twice_se"}
    if worst[challenger] > worst["blend"] and gain.mean() > margin:
        return challenger, record
    return "blend", record


def rankers_per_user(blend: Blend, features: np.ndarray, design: np.ndarray | None,
                     rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix,
                     only: np.ndarray, k: int, scores: np.ndarray | None = None,
                     extra: Mapping[str, np.ndarray] | None = None,
                     among: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-row NDCG@k (rows where ``only`` is True, in order) of each component alone, of
    each ``extra`` ranker (its scores of the candidate pairs) and of ``blend`` (last;
    ``scores``: the blend's score of each candidate, when given), over the candidates where
    ``among`` is True (default: all). Only those rows' columns are copied, and the design
    matrix only for a blend that scores it (the learned ranker's)."""
    keep = only[rows] if among is None else only[rows] & among
    out = {name: ndcg_rows(features[keep, j], rows[keep], items[keep], relevant, k, only)
           for j, name in enumerate(blend.names)}
    for name, ranked in (extra or {}).items():
        out[name] = ndcg_rows(ranked[keep], rows[keep], items[keep], relevant, k, only)
    uses_design = design is not None and blend.scores_design
    blended = (blend.score(features[keep], design[keep] if uses_design else None)
               if scores is None else scores[keep])
    out["blend"] = ndcg_rows(blended, rows[keep], items[keep], relevant, k, only)
    return out


def by_part(blend: Blend, features: np.ndarray, design: np.ndarray | None,
            rows: np.ndarray, items: np.ndarray, parts: dict[str, sp.csr_matrix],
            only: np.ndarray, k: int, scores: np.ndarray | None = None,
            extra: Mapping[str, np.ndarray] | None = None
            ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """Per part of the held-out items (e.g. each user's latest, and the earlier ones drawn at
    random), every candidate ranker's NDCG@k over the ``only`` rows with something held
    out in that part (parts no such row has are left out); and per part, the blend's paired
    per-user gain over that part's best single component with twice its standard error:
    whether the blend is below one of its parts on that kind of item beyond noise.
    ``scores``: the blend's score of each candidate, when not ``blend``'s own; ``extra``: more
    rankers' scores of the candidates, judged like single components (as
    :func:`choose_served` takes them)."""
    out: dict[str, dict[str, float]] = {}
    gains: dict[str, dict[str, Any]] = {}
    for part, scored in kind_scores(blend, features, design, rows, items, parts, only, k,
                                    scores, extra).items():
        out[part] = {n: round(float(v.mean()), 5) for n, v in scored.items()}
        best = max((n for n in scored if n != "blend"), key=lambda n: out[part][n],
                   default=None)
        if best is not None:
            gain = scored["blend"] - scored[best]
            gains[part] = {"best": best, "gain": round(float(gain.mean()), 5),
                           "twice_se": record_float(twice_standard_error(gain), 5)}
    return out, gains


def kind_scores(blend: Blend, features: np.ndarray, design: np.ndarray | None,
                rows: np.ndarray, items: np.ndarray, parts: Mapping[str, sp.csr_matrix],
                only: np.ndarray, k: int, scores: np.ndarray | None = None,
                extra: Mapping[str, np.ndarray] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Per kind of held-out item (``parts``: each user's latest, the earlier ones), every
    ranker's per-user NDCG@k over the ``only`` rows with some of it held out, as its own test
    would score it: the other kinds' held-out items dropped from the candidates (a by-time
    test has the earlier items in the history), not counted as misses."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind, rel in parts.items():
        has = only & (np.diff(rel.indptr) > 0)
        if not has.any():
            continue
        others = [m for name, m in parts.items() if name != kind]
        keep = ~held_labels(sum(others[1:], others[0]).tocsr(), rows, items) if others else None
        out[kind] = rankers_per_user(blend, features, design, rows, items, rel, has, k, scores,
                                     extra, among=keep)
    return out


def single(names: Sequence[str], name: str, validation: dict[str, Any]) -> Blend:
    """The blend that serves component ``name`` alone."""
    weights = np.array([1.0 if n == name else 0.0 for n in names])
    return Blend(tuple(names), weights, "fixed", validation)


def held_out_ranks(components: dict[str, Any], graph: Any, users: np.ndarray,
                   relevant: sp.csr_matrix, targets: Sequence[str] = ()) -> np.ndarray:
    """Per held-out (user, item) pair of ``users`` (rows) and component (columns, in the
    order of ``components``), its rank (0 = first) among the user's allowed products with
    that component's evidence; inf where the component has none for it. Ties are ordered
    as the pool orders them (by how many people saw each product:
    :func:`recommend.hybrid.candidates.tie_broken`); an item still tied ranks at the middle
    of its tie, where the pool's arbitrary pick puts it on average.
    ``targets``: what "seen" means (:func:`kg.interactions.seen_matrix`)."""
    allowed = graph.described("product")
    seen = seen_matrix(graph, targets)
    prior = seen_prior(seen)
    out: list[np.ndarray] = []
    for a in range(0, len(users), _BATCH):
        batch = users[a:a + _BATCH]
        rel = relevant[batch].tocoo()
        best = np.full((rel.nnz, len(components)), np.inf)
        for c, comp in enumerate(components.values()):
            s = tie_broken(np.asarray(comp.scores(batch), np.float64), prior)
            s[:, ~allowed] = -np.inf
            s[seen[batch].nonzero()] = -np.inf
            s[(s == 0) | ~np.isfinite(s)] = -np.inf
            ordered = np.sort(-s, axis=1)  # ascending -s: best first
            value = s[rel.row, rel.col]
            for j in np.flatnonzero(np.isfinite(value)):
                row = ordered[rel.row[j]]
                tie = np.searchsorted(row, -value[j], side="right") - 1
                best[j, c] = (np.searchsorted(row, -value[j], side="left") + tie) / 2
        out.append(best)
    return np.concatenate(out) if out else np.zeros((0, len(components)))


def candidate_size(ranks: np.ndarray, sizes: Sequence[int], target: float
                   ) -> tuple[int, dict[str, float]]:
    """The smallest of ``sizes`` whose top-N pool holds ``target`` of the held-out items
    (``ranks``: each one's best rank over the components) (else the largest), and the
    recall at each size."""
    if len(ranks) == 0:
        return int(min(sizes)), {}
    recall = {str(n): round(float((ranks < n).mean()), 4) for n in sorted(sizes)}
    for n in sorted(sizes):
        if recall[str(n)] >= target:
            return int(n), recall
    return int(max(sizes)), recall
