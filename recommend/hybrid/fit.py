"""Fitting the hybrid ranker (:func:`fit_hybrid`).

1. cut the validation split (:mod:`recommend.hybrid.split`), tune the cf model and the
   session window there (each alone, NDCG@k on the held-out products) and fit every
   component on the training graph (the meta-path weights of the graph and social scorers
   are fitted there, on the held-out products);
2. for (at most ``max_fit_users``) validation users, gather candidates, normalise per user
   and fit the blend (:mod:`recommend.hybrid.blend`);
3. refit the components on the whole graph for serving, keeping the tuned settings, the
   meta-path and the blend weights. The content index does not depend on interactions: it
   is built once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.hybrid.blend import Blend, fit_blend
from recommend.hybrid.components import (
    CfComponent,
    ContentComponent,
    PathComponent,
    PopularityComponent,
)
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.encoders import TextEncoder
from recommend.hybrid.model import HybridModel, make_encoder
from recommend.hybrid.session import SessionComponent
from recommend.hybrid.split import PRODUCT_RELATIONS, ValidationSplit, seen_matrix, validation_split

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

_BATCH = 256


def _cf_kind(config: HybridConfig, graph: KnowledgeGraph) -> str:
    if config.cf_model != "auto":
        return config.cf_model
    active = int((np.diff(seen_matrix(graph).tocsc().indptr) > 0).sum())
    return "ease" if active <= config.ease_max_items else "als"


def _cf_params(config: HybridConfig) -> dict[str, Any]:
    return {"lam": config.ease_lam, "recency_tau": config.ease_recency_tau,
            "factors": config.als_factors, "iterations": config.als_iterations,
            "reg": config.als_reg, "alpha": config.als_alpha, "offset": config.als_offset,
            "seed": config.seed}


def _alone_ndcg(comp: Any, split: ValidationSplit, users: np.ndarray, k: int) -> float:
    """NDCG@k of one component alone on the validation users (described, unseen products)."""
    from cf.base import top_k
    from recommend.evaluate.metrics import ndcg_at_k

    allowed = split.train_graph.described("product")
    seen = seen_matrix(split.train_graph)
    recs = []
    for a in range(0, len(users), _BATCH):
        batch = users[a:a + _BATCH]
        s = comp.scores(batch)
        s[:, ~allowed] = -np.inf
        s[seen[batch].nonzero()] = -np.inf
        recs.append(top_k(s, k)[0])
    return ndcg_at_k(np.vstack(recs), split.relevant[users], k)


def _tune_session(split: ValidationSplit, config: HybridConfig, users: np.ndarray
                  ) -> tuple[HybridConfig, SessionComponent | None, dict[str, float]]:
    """The session window of ``session_tune_windows`` whose component alone ranks best, and
    that component (fitted on the training graph; None if no window finds transitions)."""
    tried: dict[str, float] = {}
    best: tuple[float, HybridConfig, SessionComponent | None] = (-1.0, config, None)
    for window in config.session_tune_windows:
        cfg = dataclasses.replace(config, session_window=float(window))
        comp = SessionComponent.fit(split.train_graph, window=cfg.session_window,
                                    max_lag=cfg.session_max_lag,
                                    recency_tau=cfg.session_recency_tau)
        tried[f"window={window:g}s"] = value = (
            _alone_ndcg(comp, split, users, config.k) if comp is not None else 0.0)
        if value > best[0]:
            best = (value, cfg, comp)
    return best[1], best[2], tried


def _tune_cf(split: ValidationSplit, config: HybridConfig, users: np.ndarray
             ) -> tuple[HybridConfig, CfComponent, dict[str, float]]:
    """Best cf model on the validation users (CF alone, NDCG@k): EASE over the lambda x tau
    grid, and weighted ALS (at its configured factors / reg / alpha grid) if asked."""
    graph = split.train_graph

    def value(comp: CfComponent) -> float:
        return _alone_ndcg(comp, split, users, config.k)

    tried: dict[str, float] = {}
    best: tuple[float, HybridConfig, CfComponent] | None = None

    def trial(name: str, cfg: HybridConfig, comp: CfComponent) -> None:
        nonlocal best
        tried[name] = value(comp)
        if best is None or tried[name] > best[0]:
            best = (tried[name], cfg, comp)

    if "ease" in config.cf_tune_models:
        for lam in config.cf_tune_lams or (config.ease_lam,):
            fitted = None
            for tau in config.cf_tune_taus or (config.ease_recency_tau,):
                cfg = dataclasses.replace(config, cf_model="ease", ease_lam=float(lam),
                                          ease_recency_tau=tau)
                if fitted is None:
                    fitted = CfComponent.fit(graph, kind="ease", params=_cf_params(cfg))
                trial(f"lam={lam:g},tau={tau}", cfg,
                      CfComponent(fitted.model, graph, fitted.columns_, recency_tau=tau))
    if "als" in config.cf_tune_models:
        for reg in config.cf_tune_als_regs or (config.als_reg,):
            for offset in config.cf_tune_als_offsets or (config.als_offset,):
                cfg = dataclasses.replace(config, cf_model="als", als_reg=float(reg),
                                          als_offset=float(offset))
                trial(f"als,reg={reg:g},offset={offset:g}", cfg,
                      CfComponent.fit(graph, kind="als", params=_cf_params(cfg)))
    if best is None:
        raise ValueError("cf_tune_models names no known model ('ease', 'als')")
    return best[1], best[2], tried


def _fit_components(
    graph: KnowledgeGraph, config: HybridConfig, content: ContentComponent | None,
    relevant: sp.csr_matrix | None, path_states: dict[str, Any] | None,
    tuned: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every configured component over ``graph``: fitted, or (path scorers) given weights;
    ``tuned`` holds components the tuning already fitted on this graph (by name)."""
    from recommend.paths import GraphPathScorer
    from recommend.paths.privacy import Privacy

    comps: dict[str, Any] = {n: c for n, c in (tuned or {}).items() if c is not None}
    wanted = config.components
    if "cf" in wanted and "cf" not in comps and seen_matrix(graph).nnz:
        comps["cf"] = CfComponent.fit(graph, kind=_cf_kind(config, graph),
                                      params=_cf_params(config))
    if "session" in wanted and "session" not in comps:
        session = SessionComponent.fit(graph, window=config.session_window,
                                       max_lag=config.session_max_lag,
                                       recency_tau=config.session_recency_tau)
        if session is not None:
            comps["session"] = session
    if "content" in wanted and content is not None:
        comps["content"] = ContentComponent(content.index, graph,
                                            half_life_days=config.content_half_life_days,
                                            encoder=content.encoder)
    groups = PathComponent.split_metapaths(graph, Privacy.from_config(config))
    for name in ("graph", "social"):
        if name not in wanted or not groups[name]:
            continue
        if path_states is not None:
            if name in path_states:
                comps[name] = PathComponent(name, GraphPathScorer.from_state(
                    graph, path_states[name]))
            continue
        scorer = GraphPathScorer(groups[name], seen_relations=PRODUCT_RELATIONS,
                                 normalize=config.path_normalize,
                                 k=config.k, max_fit_users=config.max_fit_users,
                                 random_state=config.seed)
        if relevant is not None and relevant.nnz:
            scorer.fit(graph, relevant)
        else:
            scorer.prepare(graph)
        comps[name] = PathComponent(name, scorer)
    if "popularity" in wanted:
        comps["popularity"] = PopularityComponent(graph)
    return {n: comps[n] for n in wanted if n in comps}


def fit_hybrid(
    graph: KnowledgeGraph,
    config: HybridConfig | None = None,
    *,
    encoder: TextEncoder | None = None,
    log: Callable[[str], None] | None = None,
) -> HybridModel:
    """Fit the hybrid ranker on ``graph`` (module docstring)."""
    config = config or HybridConfig()
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    content = None
    if "content" in config.components and config.content_encoder != "none":
        enc = encoder if encoder is not None else make_encoder(config)
        if enc is not None:
            content = ContentComponent.fit(graph, enc, half_life_days=config.content_half_life_days)
    seconds["content"] = time.perf_counter() - started
    say("validation split")
    split = validation_split(graph, target_relations=config.target_relations,
                             fraction=config.holdout_fraction,
                             min_user_items=config.min_user_items, seed=config.seed,
                             derived=config.derived_relations)
    users = split.users
    info: dict[str, Any] = {"validation_users": len(users),
                            "validation_items": int(split.relevant.nnz)}
    if len(users) == 0:
        comps = _fit_components(graph, config, content, None, None)
        names = tuple(comps)
        blend = Blend(names, np.ones(len(names)) / max(len(names), 1), "fixed",
                      validation={"note": "no user had enough interactions to validate"})
        return HybridModel(graph, config, comps, blend, info)
    if len(users) > config.max_fit_users:
        rng = np.random.default_rng(config.seed)
        users = np.sort(rng.choice(users, config.max_fit_users, replace=False))
    began = time.perf_counter()
    tuned: dict[str, Any] = {}
    if "cf" in config.components and (
            config.cf_tune_lams or config.cf_tune_taus or config.cf_tune_als_regs):
        say("tuning the cf component")
        config, tuned["cf"], info["cf_tuning"] = _tune_cf(split, config, users)
    if "session" in config.components and config.session_tune_windows:
        say("tuning the session window")
        config, tuned["session"], info["session_tuning"] = _tune_session(split, config, users)
    seconds["tune"] = time.perf_counter() - began
    say(f"fitting components on the training graph ({len(users)} validation users)")
    began = time.perf_counter()
    train = _fit_components(split.train_graph, config, content, split.relevant, None, tuned)
    seconds["fit_train"] = time.perf_counter() - began
    began = time.perf_counter()
    probe = HybridModel(split.train_graph, config, train,
                        Blend(tuple(train), np.ones(len(train))))
    feats, designs, rows, items = [], [], [], []
    described = split.train_graph.described("product")
    for a in range(0, len(users), _BATCH):
        batch = users[a:a + _BATCH]
        ranked = probe.rank(batch, probe.allowed(batch, described, exclude_seen=True),
                            with_design=True)
        feats.append(ranked.normalised)
        designs.append(ranked.design)
        rows.append(ranked.candidates.rows + a)
        items.append(ranked.candidates.items)
    relevant = split.relevant[users]
    say("fitting the blend")
    blend = fit_blend(np.concatenate(feats), np.concatenate(rows), np.concatenate(items),
                      relevant, tuple(train), k=config.k, grid=config.grid,
                      rounds=config.rounds, learned=config.learned_ranker,
                      design=np.concatenate(designs), seed=config.seed)
    seconds["fit_blend"] = time.perf_counter() - began
    recall = _candidate_recall(np.concatenate(rows), np.concatenate(items), relevant)
    info["candidate_recall"] = recall
    say("refitting components on all data")
    began = time.perf_counter()
    states = {n: c.scorer.state() for n, c in train.items() if isinstance(c, PathComponent)}
    comps = _fit_components(graph, config, content, None, states)
    comps = {n: comps[n] for n in blend.names if n in comps}
    if tuple(comps) != blend.names:  # a component vanished on the full graph: unlikely
        if blend.kind == "gbdt":
            raise RuntimeError(f"components {sorted(set(blend.names) - set(comps))} have no "
                               "evidence on the full graph; the learned ranker needs them")
        keep = [j for j, n in enumerate(blend.names) if n in comps]
        blend = Blend(tuple(comps), blend.weights[keep], blend.kind, blend.validation)
    seconds["refit"] = time.perf_counter() - began
    seconds["total"] = time.perf_counter() - started
    info["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return HybridModel(graph, config, comps, blend, info)


def _candidate_recall(rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix) -> float:
    """Share of held-out items that made it into their user's candidate set."""
    hit = np.asarray(relevant[rows, items]).ravel() > 0
    return float(hit.sum() / max(relevant.nnz, 1))
