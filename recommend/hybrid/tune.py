"""Tuning the history components on the validation split: which CF family, which window.

Each trial is one component fitted on the training graph and ranked alone (NDCG@k over
the tuning users' held-out products, among described products they have not seen). The
CF families and their main hyper-parameter (:class:`~recommend.hybrid.config.HybridConfig`):

- ``itemknn``: item-item neighbours with implicit's weightings (BM25, cosine, TF-IDF) at
  each neighbourhood size;
- ``ease``: EASE at each lambda, when its dense item x item matrix fits
  (``cf.ease_max_items`` products with interactions);
- ``als``: weighted ALS at each regularisation and confidence scale (``cf.als_regs`` x
  ``cf.als_alphas``: the good settings lie on a ridge of reg rising with alpha, and which
  point of it wins depends on the data).

History-scored models (item-kNN, EASE) also try each recency weighting of the history at
no refitting cost. The best trial on the tuning users replaces the untuned model (the
config's fixed settings) only when it also beats it on the users set apart for selection,
who took no part in picking it (:func:`tune_cf`). Trials take each family's first
setting in turn (cheapest family first), then each one's second, and so on
(:func:`cf_fits`); once ``cf.tune_budget_seconds`` of the building thread's CPU time are
spent the rest are skipped and reported as such. CPU time, not wall time, so that a build
on a busy machine tries the same trials as on a quiet one. Every trial's figure and
seconds (wall) are recorded. The other families whose best trial the tuning users cannot
tell apart from the best are the chosen model's contenders (:func:`close_families`): what
is served around each is then judged by the blend (:mod:`recommend.hybrid.fit`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from kg.interactions import seen_matrix
from recommend.hybrid.blend import record_float, twice_standard_error
from recommend.hybrid.component import FitShared
from recommend.hybrid.components import CfComponent, untuned_kind
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.select import confirm_tuned
from recommend.hybrid.session import SessionComponent
from recommend.hybrid.split import HoldoutSplit

_BATCH = 256


def alone_top_k(comp: Any, graph: Any, users: np.ndarray, k: int,
                targets: Sequence[str] = ()) -> np.ndarray:
    """(len(users), k) product indices a component ranks first alone for ``users``, among
    the described products they have not seen (for ``targets``:
    :func:`kg.interactions.seen_matrix`; -1 pads)."""
    from cf.base import top_k

    allowed = graph.described("product")
    seen = seen_matrix(graph, targets)
    recs = []
    for a in range(0, len(users), _BATCH):
        batch = users[a:a + _BATCH]
        s = comp.scores(batch)
        s[:, ~allowed] = -np.inf
        s[seen[batch].nonzero()] = -np.inf
        recs.append(top_k(s, k)[0])
    return np.vstack(recs) if recs else np.zeros((0, min(k, len(allowed))), np.int64)


def alone_per_user(comp: Any, split: HoldoutSplit, users: np.ndarray, k: int) -> np.ndarray:
    """Each of ``users``' NDCG@k of one component alone (described, unseen products)."""
    from recommend.evaluate.metrics import ndcg_per_user

    if len(users) == 0:
        return np.zeros(0)
    return ndcg_per_user(alone_top_k(comp, split.train_graph, users, k, split.targets),
                         split.relevant[users], k)


def alone_ndcg(comp: Any, split: HoldoutSplit, users: np.ndarray, k: int) -> float:
    """NDCG@k of one component alone on ``users`` (the mean of :func:`alone_per_user`)."""
    per_user = alone_per_user(comp, split, users, k)
    return float(per_user.mean()) if len(per_user) else 0.0


def active_products(split: HoldoutSplit) -> int:
    """Products with at least one interaction in the training graph."""
    return int((np.diff(seen_matrix(split.train_graph, split.targets).tocsc().indptr) > 0).sum())


def cf_fits(config: HybridConfig, n_active: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, params) of every CF fit to try: each family's first setting (cheapest family
    first), then each family's second, and so on, so that a budget spent early still
    tried every family (on Ciao's 90k active products two item-kNN fits spent it, and ALS,
    implicit's best peer there at 8x the item-kNN's NDCG, was never tried)."""
    if config.cf.model != "auto":
        yield config.cf.model, config.cf_params()
        return
    grids: list[list[tuple[str, dict[str, Any]]]] = []
    for family in config.cf.families:
        if family == "itemknn":
            grids.append([("itemknn", {**config.cf_params(), "weighting": weighting,
                                       "neighbours": k})
                          for weighting in config.cf.knn_weightings for k in config.cf.knn_ks])
        elif family == "ease" and n_active <= config.cf.ease_max_items:
            grids.append([("ease", {**config.cf_params(), "lam": float(lam)})
                          for lam in config.cf.ease_lams])
        elif family == "als":
            grids.append([("als", {**config.cf_params(), "reg": float(reg),
                                    "alpha": float(alpha)})
                          for reg in config.cf.als_regs for alpha in config.cf.als_alphas])
    for rank in range(max(map(len, grids), default=0)):
        yield from (grid[rank] for grid in grids if rank < len(grid))


def tune_cf(split: HoldoutSplit, config: HybridConfig, users: np.ndarray,
            others: Sequence[HoldoutSplit] = (), confirm: np.ndarray | None = None
            ) -> tuple[HybridConfig, CfComponent | None, dict[str, Any], list[HybridConfig]]:
    """The best CF model on ``users`` (module docstring): the config with its settings,
    the component fitted on ``split``'s training graph, the record of every trial, and the
    contenders the blend is to confirm it against (:func:`close_families`).

    With ``others`` (more validation folds), each trial is also fitted on their training
    graphs and judged by the geometric mean of its NDCG@k over all folds, i.e. by the sum of
    its log-ratios to each fold's best: no fold's figure is traded away for another's.

    The best trial replaces the config's untuned model (:func:`untuned_kind` at the fixed
    settings) only when it is confirmed on ``confirm``, validation users apart from
    ``users``: its paired per-user NDCG gain over the untuned model there (the folds' figures
    side by side) must be above 0 for another setting of the same family, above
    ``cf.switch_se`` standard errors for another family
    (:func:`recommend.hybrid.select.confirm_tuned`). On
    the tuning users that gain is inflated by the max over some forty trials (on the demo
    world an item-kNN won there by 0.05 and its hybrid then lost 0.010 on a random test).
    A family is many choices at once, and on small data the sign would switch on noise.
    Two SE over-corrects there too: on demo-7 (93 confirmation users) it turned down ALS
    ahead by 1.2 SE by time, and the hybrid tested 0.3489 around EASE against 0.3707.
    Without such users (``confirm`` None, empty or
    shared with ``users``: too few validation users to set any apart) the best trial must
    beat the untuned one on ``users`` by more than twice the gain's standard error. Both
    figures are recorded (``over_untuned``).

    ``users`` are the blend's fit users, half the validation users. Session 24 judged the
    trials on more users (hybrid's test NDCG@10, generalise rows at random; paired gain, SE),
    not kept: on all validation users (none set apart, so the 2 SE rule), ML-100K 0.4456 ->
    0.4348 (-0.0108, 0.0033: EASE for ALS), Fashion 0.9446 -> 0.9371 (-0.0074, 0.0052: ALS),
    Beauty+Fashion 0.9527 -> 0.9538 (+0.0011, 0.0020), Beauty the same; with a second random
    cut pooled (``others``), Fashion 0.9419 (-0.0027, 0.0050: item-kNN), demo-9 0.3301 ->
    0.3225 (-0.0075, 0.0072) and by time 0.3601 -> 0.3437 (-0.0164, 0.0077), demo-8 by time
    0.3231 -> 0.3277 (+0.0045, 0.0078), ML-100K, Beauty, Beauty+Fashion, demo-7 (both splits)
    and demo-8 at random the same. Beauty's miss against the EASE peer (its lambda 10, ours
    200) is no noise of this choice: lambda 10 tests +0.0048 to
    +0.0081 over 200 on three test draws (SE 0.002), and on each draw's validation -0.0009 to
    -0.0064 (all 976 users; the peer's cut of the training matrix, three cuts a draw: -0.0117
    to +0.0063, mean -0.0017; its lambda 10 is its one cut's +0.0063). Most users hold 4 of 85
    products: a test leaves 3 in the history, where the 4th is near certain (EASE 0.98) and a
    weaker shrinkage pays; a validation leaves 2 (0.78), where it does not (nor at 1). Forced
    to lambda 10 the hybrid tests 0.9341 (+0.0066, 0.0017), the peer 0.9359.
    """
    trials: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    aside = np.asarray(confirm if confirm is not None else (), np.int64)
    if np.isin(aside, users).any():  # in-sample: nothing was set apart
        aside = aside[:0]
    # (figure, name, per-user figures, settings, component, per-user figures on the
    # ``confirm`` users) of the best trial so far, and (name, per-user figures, settings,
    # on ``confirm``) of the untuned one: its model is refitted if chosen, so only one
    # fitted model is held at a time
    best: tuple[float, str, np.ndarray, HybridConfig, CfComponent, np.ndarray] | None = None
    plain: tuple[str, np.ndarray, HybridConfig, np.ndarray] | None = None
    # each family's best trial: (figure, name, per-user figures, settings)
    families: dict[str, tuple[float, str, np.ndarray, HybridConfig]] = {}
    started, cpu_started = time.perf_counter(), time.thread_time()
    folds = (split, *others)
    untuned = _untuned_trial(config, active_products(split))
    for kind, params in cf_fits(config, active_products(split)):
        label = trial_label(kind, params)
        if best is not None and time.thread_time() - cpu_started > config.cf.tune_budget_seconds:
            skipped.append(label)
            continue
        began = time.perf_counter()
        fitted = [CfComponent.fit(s.train_graph, kind=kind, params=params, targets=s.targets)
                  for s in folds]
        fit_seconds = time.perf_counter() - began
        taus = config.cf.recency_taus if fitted[0].scores_history else (params["recency_tau"],)
        for tau in taus:
            began = time.perf_counter()
            comps = [CfComponent(f.model, s.train_graph, f.columns_, recency_tau=tau,
                                 targets=s.targets)
                     for f, s in zip(fitted, folds, strict=True)]
            per_fold = [alone_per_user(c, s, users, config.k)
                        for c, s in zip(comps, folds, strict=True)]
            by_fold = [float(v.mean()) if len(v) else 0.0 for v in per_fold]
            value = fold_mean(by_fold)
            name = label if len(taus) == 1 else f"{label},tau={tau}"
            trials[name] = {"ndcg": round(value, 5),
                            "seconds": round(fit_seconds + time.perf_counter() - began, 3)}
            if others:
                trials[name]["by_fold"] = [round(v, 5) for v in by_fold]
            fit_seconds = 0.0
            cfg = config.with_cf(kind, {**params, "recency_tau": tau})
            is_plain, is_best = (label, tau) == untuned, best is None or value > best[0]
            # only these two are ever scored on the set-apart users: no other figure of
            # theirs is seen, so none can sway the choice
            held = (_per_user_on(comps, folds, aside, config.k)
                    if len(aside) and (is_plain or is_best) else np.zeros(0))
            if is_plain:
                plain = (name, np.concatenate(per_fold), cfg, held)
            if is_best:
                best = (value, name, np.concatenate(per_fold), cfg, comps[0], held)
            if kind not in families or value > families[kind][0]:
                families[kind] = (value, name, np.concatenate(per_fold), cfg)
    record = {"trials": trials, "skipped": skipped,
              "seconds": round(time.perf_counter() - started, 3),
              "cpu_seconds": round(time.thread_time() - cpu_started, 3)}
    if best is None:
        return config, None, record, []
    _, name, per_user, cfg, comp, held = best
    del best, fitted, comps  # the loop's last models: only ``comp`` is kept
    if plain is not None and plain[0] != name:
        gain = per_user - plain[1]
        margin = twice_standard_error(gain)
        over: dict[str, Any] = {"untuned": plain[0], "gain": round(float(gain.mean()), 5),
                                "twice_se": record_float(margin, 5)}
        if len(aside):
            switch = cfg.cf.model != plain[2].cf.model  # another family: beyond noise
            keep, over["confirmation"] = confirm_tuned(held, plain[3],
                                                       config.cf.switch_se if switch else 0.0)
            over["rule"] = ("confirmation users: gain > cf.switch_se standard errors "
                            "(another family)" if switch else "confirmation users: mean gain > 0")
        else:
            keep = bool(gain.mean() > margin)
            over["rule"] = "tuning users: gain > twice its standard error (none set apart)"
        record["over_untuned"] = over
        if not keep:
            del comp  # the best trial's model, before the untuned one is refitted
            cfg = plain[2]
            comp = CfComponent.fit(split.train_graph, kind=cfg.cf.model,
                                   params=cfg.cf_params(), targets=split.targets)
    record["chosen"] = trial_label(cfg.cf.model, cfg.cf_params())
    close, record["contenders"] = close_families(per_user, cfg.cf.model, families)
    return cfg, comp, record, close


def close_families(best: np.ndarray, chosen: str,
                   families: dict[str, tuple[float, str, np.ndarray, HybridConfig]]
                   ) -> tuple[list[HybridConfig], dict[str, dict[str, Any]]]:
    """The settings of each other family's best trial (``families``: family -> figure,
    name, per-user figures, settings) that the tuning users cannot tell apart from the best
    trial (``best``: its per-user figures), best first, and the record of every family's
    gap: its paired mean per-user gap to the best trial and twice its standard error.

    Alone, the families can be within noise of each other and still make different blends:
    the blend's gain depends on what a CF model gets wrong that the other components get
    right (on ML-100K by time the tuned ALS led EASE alone by 0.003, 2 SE 0.009, and the
    blend around EASE then tested 0.2406 against 0.2314). Such close families are confirmed
    by the blend fitted with each (:func:`recommend.hybrid.select.confirm_by_blend`); within
    a family the settings differ by one hyper-parameter and are left to their figure alone.
    """
    close: list[tuple[float, HybridConfig]] = []
    record: dict[str, dict[str, Any]] = {}
    for family, (value, name, per_user, cfg) in families.items():
        gap = best - per_user
        margin = twice_standard_error(gap)
        near = family != chosen and bool(gap.mean() <= margin)
        record[name] = {"ndcg": round(value, 5), "gap": round(float(gap.mean()), 5),
                        "twice_se": record_float(margin, 5), "close": near}
        if near:
            close.append((value, cfg))
    return [cfg for _, cfg in sorted(close, key=lambda t: -t[0])], record


def _per_user_on(comps: Sequence[CfComponent], folds: Sequence[HoldoutSplit],
                 users: np.ndarray, k: int) -> np.ndarray:
    """Each fold's per-user NDCG@k of its component on ``users``, the folds side by side."""
    return np.concatenate([alone_per_user(c, s, users, k)
                           for c, s in zip(comps, folds, strict=True)])


def _untuned_trial(config: HybridConfig, n_active: int) -> tuple[str, float | None] | None:
    """(label, recency tau) of the trial that is the config's untuned CF model, or None when
    the tuning does not try it (its family left out of ``cf.families``)."""
    kind = untuned_kind(config, n_active)
    if config.cf.model == "auto" and kind not in config.cf.families:
        return None
    return trial_label(kind, config.cf_params()), config.cf.recency_tau


def fold_mean(values: Sequence[float]) -> float:
    """The geometric mean over folds of non-negative NDCG ``values`` (scipy's ``gmean``; a
    fold at 0 makes it 0)."""
    from scipy.stats import gmean  # here: scipy.stats is slow to import

    with np.errstate(divide="ignore"):
        return float(gmean(np.asarray(values, np.float64)))


def trial_label(kind: str, params: dict[str, Any]) -> str:
    """The name of a CF trial in the tuning record (without its recency tau)."""
    if kind == "itemknn":
        return f"itemknn,{params['weighting']},K={params['neighbours']}"
    if kind == "ease":
        return f"ease,lam={params['lam']:g}"
    return f"als,reg={params['reg']:g},alpha={params['alpha']:g}"


def tune_session(split: HoldoutSplit, config: HybridConfig, users: np.ndarray,
                 others: Sequence[HoldoutSplit] = ()
                 ) -> tuple[HybridConfig, SessionComponent | None, dict[str, float]]:
    """The session window of ``session.tune_windows`` whose component alone ranks best
    (over ``others`` too: as in :func:`tune_cf`), and that component (fitted on ``split``'s
    training graph; None if no window finds transitions)."""
    tried: dict[str, float] = {}
    best: tuple[float, HybridConfig, SessionComponent | None] = (-1.0, config, None)
    for window in config.session.tune_windows:
        cfg = config.updated(session={"window": float(window)})
        comp = SessionComponent.from_graph(split.train_graph, cfg, FitShared())
        by_fold = [alone_ndcg(comp, split, users, config.k) if comp is not None else 0.0]
        for other in others:
            more = SessionComponent.from_graph(other.train_graph, cfg, FitShared())
            by_fold.append(alone_ndcg(more, other, users, config.k) if more is not None
                           else 0.0)
        tried[f"window={window:g}s"] = value = fold_mean(by_fold)
        if value > best[0]:
            best = (value, cfg, comp)
    return best[1], best[2], tried

