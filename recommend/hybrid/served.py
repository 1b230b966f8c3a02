"""What the validation serves around a CF model, and the CF model confirmed by it.

:func:`served_around` sizes the candidate pool for recall over the validation folds, fits
the blend on the fit users' candidates (:func:`fit_and_choose`) and chooses what is served
on the selection users (:func:`recommend.hybrid.select.choose_served`: the blend, a
component alone or the item-kNN baseline). :func:`confirmed_cf` does so around the CF
tuning's choice and around each CF family the tuning users could not tell apart from it
alone (:func:`recommend.hybrid.tune.close_families`), and keeps the one whose served ranker
validates best (:func:`recommend.hybrid.select.confirm_by_blend`): the build is judged by
what it will serve, not by its CF model alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.hybrid.baseline import BASELINE, baseline_config, fit_baseline, label, pool_scores
from recommend.hybrid.blend import Blend, fit_blend, fit_kind, held_labels, rows_only
from recommend.hybrid.components import CfComponent
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.model import HybridModel
from recommend.hybrid.order import order_consensus
from recommend.hybrid.quotas import (
    component_sizes,
    configured_quotas,
    pool_quotas,
    quota_budget,
)
from recommend.hybrid.select import (
    by_part,
    candidate_size,
    choose_served,
    confirm_by_blend,
    cross_fit_parts,
    cross_fitted,
    held_out_ranks,
    single,
)
from recommend.hybrid.split import HoldoutSplit
from recommend.hybrid.tune import trial_label

_BATCH = 64  # users ranked at once in the blend fit: their dense score rows are its peak

#: What the blend around one CF model serves: the config (its candidate pool sized, its cf
#: the item-kNN baseline when that is served), the fits per fold, the blend, the selection
#: record and the candidate pool's record.
Served = tuple[HybridConfig, list[dict[str, Any]], Blend, dict[str, Any], dict[str, Any]]


def confirmed_cf(splits: list[HoldoutSplit], config: HybridConfig,
                 trains: list[dict[str, Any]], close: list[HybridConfig], users: np.ndarray,
                 fit_users: np.ndarray, select_users: np.ndarray,
                 tuning: dict[str, Any] | None) -> Served:
    """What is served around the CF tuning's choice (``config``, its components fitted on
    each fold: ``trains``) or around one of the ``close`` families' settings, whichever
    validates best (module docstring); the choice and every contender's figures go into the
    tuning's record ``tuning`` (``by_blend``), within what the tuning left of
    ``cf.tune_budget_seconds``. The other contenders' blends take the fitter cross-validation
    chose around the tuning's choice: choosing it again was two thirds of the cost of
    judging one (ML-100K: 6.4 CPU seconds of the building thread)."""

    fitter: list[str | None] = []  # the fitter chosen around the tuning's choice: the others' too

    def judge(cfg: HybridConfig
              ) -> tuple[dict[str, float], np.ndarray, dict[str, Any], Served]:
        if cfg is config:
            out = served_around(splits, cfg, trains, users, fit_users, select_users, tuning)
            fitter.append(out[3][3].get("fitter"))
            return out
        folds = [{**t, "cf": CfComponent.fit(s.train_graph, kind=cfg.cf.model,
                                             params=cfg.cf_params(), targets=s.targets)}
                 for s, t in zip(splits, trains, strict=True)]
        return served_around(splits, cfg, folds, users, fit_users, select_users, tuning,
                             fitter[0])

    if tuning is None or "cf" not in trains[0] or not close:
        return judge(config)[3]
    contenders = [(tuning["chosen"], config),
                  *[(trial_label(c.cf.model, c.cf_params()), c) for c in close]]
    served, tuning["by_blend"] = confirm_by_blend(
        contenders, judge, config.cf.tune_budget_seconds - tuning["cpu_seconds"],
        config.cf.switch_se)
    tuning["chosen"] = tuning["by_blend"]["chosen"]
    return served


def served_around(splits: list[HoldoutSplit], config: HybridConfig,
                  trains: list[dict[str, Any]], users: np.ndarray, fit_users: np.ndarray,
                  select_users: np.ndarray, tuning: dict[str, Any] | None,
                  fitter: str | None = None
                  ) -> tuple[dict[str, float], np.ndarray, dict[str, Any], Served]:
    """Size the candidate pool for recall over the folds, fit the blend and choose what is
    served (:func:`fit_and_choose`) around the components ``trains``; returns the served
    ranker's NDCG@k on the selection users per validation fold (:func:`_by_fold`), its
    per-user NDCG@k there (folds side by side), its name and figure on each part of the
    held-out items (latest / earlier), and what is served;
    ``fitter``: the blend's fitter, instead of choosing it
    (:func:`recommend.hybrid.select.confirm_by_blend` compares them across CF models)."""
    # the recall is pooled over the folds: a held-out pair of each fold counts once
    ranks = np.concatenate([held_out_ranks(t, s.train_graph, fit_users, s.relevant, s.targets)
                            for s, t in zip(splits, trains, strict=True)])
    sizes = config.blend.candidate_sizes
    size, recall = candidate_size(ranks.min(axis=1, initial=np.inf), sizes,
                                  config.blend.candidate_recall)
    # each component's own quota, from that size up until the recall, within the budget
    # (a cap by request cost: recommend/hybrid/quotas.py)
    budget = quota_budget(config, ranks.shape[1])
    quotas, reached = pool_quotas(ranks, target=config.blend.candidate_recall, step=min(sizes),
                                  budget=budget, start=size)
    by_name = dict(zip(trains[0], quotas.tolist(), strict=True))
    config = config.updated(blend={"candidates_per_component": size})
    config = config.updated(blend={"candidate_quotas": configured_quotas(config, by_name)})
    knn = baseline_config(config, tuning)
    per_user: dict[str, np.ndarray] = {}
    blend, chosen = fit_and_choose(splits, config, trains, users, select_users, knn, fitter,
                                   per_user)
    if knn is not None and chosen["chosen"] == BASELINE:  # served as the cf component alone
        config = knn
        trains = [{**trains[0], "cf": fit_baseline(splits[0].train_graph, knn)}, *trains[1:]]
    parts = {part: figures[chosen["chosen"]]
             for part, figures in chosen.get(f"ndcg@{config.k}_by_part", {}).items()}
    return _by_fold(chosen, config.k), per_user.get(chosen["chosen"], np.zeros(0)), {
        "served": chosen["chosen"], "by_part": parts}, (
        config, trains, blend, chosen, {
            "per_component": size, "recall": recall, "quotas": by_name,
            "quota_recall": round(reached, 4), "slots": int(quotas.sum()),
            "budget": budget, "target": config.blend.candidate_recall,
            # a held-out item no component has evidence for: no pool size reaches it
            "reachable": round(float(np.isfinite(ranks).any(axis=1).mean()), 4)
            if len(ranks) else 0.0})


def _by_fold(chosen: dict[str, Any], k: int) -> dict[str, float]:
    """The served ranker's NDCG@k on the selection users of each validation fold (one fold:
    ``"all"``), from :func:`fit_and_choose`'s record ``chosen`` (none where nothing was
    judged: one validation user)."""
    if f"ndcg@{k}" not in chosen:
        return {}
    folds = chosen.get(f"ndcg@{k}_by_fold") or {"all": chosen[f"ndcg@{k}"]}
    return {name: figures[chosen["chosen"]] for name, figures in folds.items()}


def fit_and_choose(splits: list[HoldoutSplit], config: HybridConfig,
                   trains: list[dict[str, Any]], users: np.ndarray, select_users: np.ndarray,
                   knn: HybridConfig | None = None, fitter: str | None = None,
                   per_user: dict[str, np.ndarray] | None = None
                   ) -> tuple[Blend, dict[str, Any]]:
    """Fit the blend on the fit users' candidates of every validation fold (stacked: each
    user once per fold, so the folds weigh the same per user), choose the served ranker on
    the selection users' over the folds (the item-kNN baseline ``knn`` among them: when it
    wins, the cf component alone is served, the caller fitting it at ``knn``'s settings),
    and refit a chosen blend on all of them; with no selection users apart, judge the blend
    cross-fitted (:func:`recommend.hybrid.select.cross_fitted`). ``fitter``: the blend's
    fitter (:func:`recommend.hybrid.blend.fit_kind`), where not chosen by cross-validation
    (:func:`recommend.hybrid.blend.fit_blend`); ``per_user`` receives each ranker's per-user
    NDCG@k on the judging users (:func:`recommend.hybrid.select.choose_served`)."""
    n, n_folds = len(users), len(splits)
    # at most this many candidates per user and fold: the union of each component's top N
    most = n * n_folds * sum(component_sizes(config, tuple(trains[0])))
    f, d, r, i = Stacked(most), Stacked(most), Stacked(most), Stacked(most)
    for j, (split, train) in enumerate(zip(splits, trains, strict=True)):
        probe = HybridModel(split.train_graph, config, train,
                            Blend(tuple(train), np.ones(len(train))))
        described = split.train_graph.described("product")
        for a in range(0, n, _BATCH):
            batch = users[a:a + _BATCH]
            ranked = probe.rank(batch, probe.allowed(batch, described, exclude_seen=True),
                                with_design=True)
            f.add(ranked.normalised)
            d.add(ranked.design)
            r.add(ranked.candidates.rows + a + j * n)
            i.add(ranked.candidates.items)
            del ranked
    f, d, r, i = f.rows(), d.rows(), r.rows(), i.rows()
    relevant = sp.vstack([s.relevant[users] for s in splits]).tocsr()
    fold = np.repeat(np.arange(n_folds), n)
    groups = np.tile(np.arange(n), n_folds)
    selecting = np.tile(np.isin(users, select_users), n_folds)
    in_sample = bool(selecting.all())
    names = tuple(trains[0])
    first = splits[0]
    newest = sp.vstack([first.latest[users] if first.latest is not None
                        else sp.csr_matrix((n, relevant.shape[1])),
                        *[sp.csr_matrix((n, relevant.shape[1]))] * (n_folds - 1)]).tocsr()
    earlier = (relevant - newest).tocsr()
    earlier.eliminate_zeros()

    def agreed(b: Blend, keep: np.ndarray) -> Blend:
        """``b`` with order evidence at the weight both held-out parts of the rows where
        ``keep`` give it (when the config asks for it)."""
        if config.blend.order_weight != "agreed":
            return b
        on = keep[r]
        return order_consensus(b, f[on], r[on], i[on], rows_only(newest, keep),
                               rows_only(earlier, keep), k=config.k, grid=config.blend.grid,
                               rounds=config.blend.rounds, seed=config.seed)

    def fitted(keep: np.ndarray) -> Blend:
        """The blend fitted on the rows where ``keep`` (its fitter chosen on them), its
        order weight agreed."""
        on = keep[r]
        return agreed(fit_blend(f[on], r[on], i[on], rows_only(relevant, keep), names,
                                k=config.k, grid=config.blend.grid, rounds=config.blend.rounds,
                                learned=config.blend.learned_ranker, design=d[on],
                                seed=config.seed, groups=groups, fitter=fitter), keep)

    scores = None
    judged: dict[str, Any] = {"judged": "selection fold"}
    if in_sample:  # too few users to set any apart: each is judged by a blend fitted without it
        parts = np.tile(cross_fit_parts(n, config.split.cross_fit_parts, config.seed), n_folds)
        judged = {"judged": "cross-fitted", "parts": int(parts.max(initial=0)) + 1}
        if judged["parts"] < 2:  # one user: nothing to judge the blend on
            return fitted(np.ones(len(fold), bool)), {
                **judged, "chosen": "blend", "users": n,
                "candidate_recall": candidate_recall(r, i, relevant)}
        scores = cross_fitted(fitted, f, d, r, parts)
        blend = fitted(np.ones(len(fold), bool))
    else:
        blend = fitted(~selecting)
    fold_names = [s.mode for s in splits]
    extra: dict[str, np.ndarray] = {}
    if knn is not None and "cf" in names:
        extra[BASELINE] = pool_scores([fit_baseline(s.train_graph, knn) for s in splits],
                                      users, r, i, selecting)
    choice, record = choose_served(blend, f, d, r, i, relevant, selecting, config.k, fold,
                                   fold_names, scores, extra, per_user)
    if knn is not None and extra:
        record["baseline"] = label(knn)
    record.update(chosen=choice, fitter=blend.kind, users=int(selecting[:n].sum()), **judged,
                  candidate_recall=candidate_recall(r, i, relevant))
    in_first = fold == 0
    earlier_first = rows_only(earlier, in_first)
    if newest.nnz and earlier_first.nnz:  # what the choice trades between the two kinds
        figures, gains = by_part(blend, f, d, r, i,
                                 {"latest": newest, "earlier": earlier_first},
                                 selecting & in_first, config.k, scores, extra)
        record[f"ndcg@{config.k}_by_part"] = figures
        record["blend_gain_by_part"] = gains
    if choice != "blend":
        return single(names, "cf" if choice == BASELINE else choice, blend.validation), record
    if not in_sample:
        refit = fit_kind(blend.kind, f, r, i, relevant, names, d, k=config.k,
                         grid=config.blend.grid,
                         rounds=config.blend.rounds, seed=config.seed)
        refit.validation = {n: v for n, v in blend.validation.items()
                            if n != "order_consensus"}
        blend = agreed(refit, np.ones(len(fold), bool))
    return blend, record


class Stacked:
    """Arrays appended batch by batch into one reserved for ``most`` rows: the pages never
    written are never resident, so the rows are held once (a list of batches and their
    concatenation held them twice: ~130 MB more at the size world's blend fit). More rows
    than reserved double the reservation."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.filled = 0
        self.store: np.ndarray | None = None

    def add(self, part: np.ndarray) -> None:
        end = self.filled + len(part)
        if self.store is None:
            self.store = np.empty((max(self.most, len(part)), *part.shape[1:]), part.dtype)
        elif end > len(self.store):
            grown = np.empty((max(end, 2 * len(self.store)), *part.shape[1:]), part.dtype)
            grown[:self.filled] = self.store[:self.filled]
            self.store = grown
        self.store[self.filled:end] = part
        self.filled = end

    def rows(self) -> np.ndarray:
        """The rows appended so far (a view)."""
        return np.zeros(0) if self.store is None else self.store[:self.filled]


def candidate_recall(rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix) -> float:
    """Share of held-out items that made it into their user's candidate set (0 with no
    candidate: a validation whose users have nothing to rank)."""
    hit = held_labels(relevant, rows, items)
    return float(hit.sum() / max(relevant.nnz, 1))

