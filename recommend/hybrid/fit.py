"""Fitting the hybrid ranker (:func:`fit_hybrid`).

1. cut the validation split (:mod:`recommend.hybrid.split`: by time or at random, with
   no trace of the held-out pairs left in the training graph) and set part of its users
   apart for the final choice (:mod:`recommend.hybrid.select`). With usable timestamps
   and ``split.random_fold`` (opt-in: its memory) a second fold is held out at random beside
   the by-time one: a build cannot know whether it will be judged on what comes next or
   on anything, and one fold misjudged it (on ML-100K the mixed fold put the blend 2.9%
   over the CF alone where a random test put it 5% under). Each fold has its own training
   graph and component fits; only the content index is shared: it is built from the
   product texts, not from interactions, so no held-out pair reaches it;
2. on the other users, tune the CF family and the session window (each alone, NDCG@k on
   the first fold, or by the geometric mean over both: ``split.tune_folds``,
   :mod:`recommend.hybrid.tune`; the CF winner is confirmed over the untuned model on the
   set-apart users), fit every component on
   each training graph (the meta-path weights of the graph and social scorers on those
   users' held-out products of that fold), size the candidate pool for recall over both
   folds and fit the blend on both folds' candidates stacked
   (:mod:`recommend.hybrid.blend`): one weight vector for both kinds of held-out item;
3. with ``blend.order_weight="agreed"``, lower the weight of order evidence (the session) to
   what the latest and the earlier held-out items both give it (:mod:`recommend.hybrid.order`);
   on the set-apart users,
   choose what is served: the blend, unless a component alone beats it there by the worst
   ratio over the folds and beyond twice the standard error of its gain
   (:func:`recommend.hybrid.select.choose_served`); a chosen
   blend is refitted on all validation users of both folds (its order weight agreed again).
   Where other CF families were within noise of the tuned one alone, the pool, the blend
   and the choice are made around each of them too, and the CF model whose served ranker
   validates best is kept (:func:`recommend.hybrid.served.confirmed_cf`).
   Where too few users could be set apart, the blend is fitted on all of them and judged
   cross-fitted: each part of the users by the blend fitted on the other parts;
4. the audience's weights (:mod:`recommend.marketer`): the category weight on the
   validation split, then all of them on a time cut of the whole graph
   (:mod:`recommend.marketer.cut_choice`);
5. refit the components on the whole graph for serving, keeping the tuned settings, the
   meta-path and the blend weights. The content index does not depend on interactions: it
   is built once.

The text vectors are first needed after the split and the CF and session tuning, so those
run while a sentence encoder still embeds the catalogue on its own thread
(:meth:`recommend.hybrid.encoders.SentenceEncoder.prefetch`). The validation graph and the
components fitted on it are let go before the refit, whose caches of the whole graph would
otherwise come on top of theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.interactions import seen_matrix
from kg.memory import collect_only_new, release_memory
from recommend.content.neighbours import link_described_like
from recommend.hybrid.blend import Blend, rows_only
from recommend.hybrid.component import Component, FitShared, component_type
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.content_component import ContentComponent
from recommend.hybrid.encoders import TextEncoder
from recommend.hybrid.image_weight import tune_content_images
from recommend.hybrid.model import HybridModel, make_encoder
from recommend.hybrid.path_component import PathComponent
from recommend.hybrid.select import selection_fold
from recommend.hybrid.served import confirmed_cf
from recommend.hybrid.split import HoldoutSplit, holdout_split
from recommend.hybrid.targets import resolve_targets
from recommend.hybrid.tune import tune_cf, tune_session
from recommend.marketer.cut_choice import choose_on_cut
from recommend.marketer.tune import tune_audience

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.content.images import ProductImages

def _fit_components(graph: KnowledgeGraph, config: HybridConfig, shared: FitShared,
                    tuned: dict[str, Component | None] | None = None) -> dict[str, Component]:
    """Every configured component with evidence on ``graph``, in the config's order, fitted
    through the component contract with what the fit shares; ``tuned`` holds components
    the tuning already fitted on this graph (by name)."""
    comps: dict[str, Component] = {}
    for name in config.components:
        comp = (tuned or {}).get(name)
        if comp is None:
            comp = component_type(name).from_graph(graph, config, shared)
        if comp is not None:
            comps[name] = comp
    return comps


def _fit_content(graph: KnowledgeGraph, config: HybridConfig,
                 encoder: TextEncoder | None) -> ContentComponent | None:
    """The content component (its index is fitted once, on the whole graph's products), or
    None when the config has none."""
    if "content" not in config.components or config.content.encoder == "none":
        return None
    enc = encoder if encoder is not None else make_encoder(config)
    if enc is None:
        return None
    return ContentComponent.fit(graph, enc, half_life_days=config.content.half_life_days,
                                exact_threshold=config.content.exact_threshold,
                                target_recall=config.content.target_recall,
                                depth=max(config.blend.candidate_sizes))


@collect_only_new()  # its collections walk only what the fit made (also outside a build)
def fit_hybrid(
    graph: KnowledgeGraph,
    config: HybridConfig | None = None,
    *,
    encoder: TextEncoder | None = None,
    images: ProductImages | None = None,
    log: Callable[[str], None] | None = None,
) -> HybridModel:
    """Fit the hybrid ranker on ``graph`` (module docstring); ``images``: the products'
    picture vectors, joined with the text where validation says they help."""
    config = config or HybridConfig()
    say = log or (lambda _msg: None)
    clock = _Clock()
    say("validation split")
    splits = _validation_splits(graph, config)
    split = splits[0]  # the components learn from the targets resolved (kg.interactions)
    config = config.updated(split={"target_relations": split.targets})
    users = split.users
    info: dict[str, Any] = {"validation": split.report, "validation_users": len(users),
                            "validation_items": int(split.relevant.nnz)}
    if len(splits) > 1:
        info["validation_random_fold"] = splits[1].report
    clock.lap("split")
    if len(users) == 0:
        content = _fit_content(graph, config, encoder)
        info["described_like"] = link_described_like(content, [graph], config.content)
        comps = _fit_components(graph, config, FitShared(content))
        names = tuple(comps)
        blend = Blend(names, np.ones(len(names)) / max(len(names), 1), "fixed",
                      validation={"note": "no user had enough interactions to validate"})
        info["seconds"] = clock.seconds()
        return HybridModel(graph, config, comps, blend, info)
    if len(users) > config.split.max_fit_users:
        rng = np.random.default_rng(config.seed)
        users = np.sort(rng.choice(users, config.split.max_fit_users, replace=False))
    fit_users, select_users = selection_fold(users, config.split.selection_share, config.seed)
    info["fit_users"], info["selection_users"] = len(fit_users), len(select_users)
    tuned: list[dict[str, Any]] = [{} for _ in splits]
    others = splits[1:] if config.split.tune_folds == "both" else []
    close: list[HybridConfig] = []  # CF families within noise of the tuned one, alone
    if "cf" in config.components and split.train_graph.num_edges() and seen_matrix(
            split.train_graph, split.targets).nnz:
        say("tuning the cf component")
        config, tuned[0]["cf"], info["cf_tuning"], close = tune_cf(
            splits[0], config, fit_users, others, confirm=select_users)
    if "session" in config.components and config.session.tune_windows:
        say("tuning the session window")
        config, tuned[0]["session"], info["session_tuning"] = tune_session(
            splits[0], config, fit_users, others)
    clock.lap("tune")
    # the first step that needs the text vectors: the sentence encoder's thread has had
    # the split and the tuning above to finish
    content = _fit_content(graph, config, encoder)  # (its neighbours: before the graph fits)
    info["described_like"] = link_described_like(
        content, [graph, *(s.train_graph for s in splits)], config.content)
    clock.lap("content")
    if content is not None and images is not None and len(images):
        say("tuning the content component's image weight")
        content, info["content_images"] = tune_content_images(content, images, split, config)
        clock.lap("tune_images")
    say(f"fitting components on the training graph ({len(fit_users)} users)")
    is_fit_user = np.isin(np.arange(split.relevant.shape[0]), fit_users)
    trains = [_fit_components(s.train_graph, config,
                              FitShared(content, rows_only(s.relevant, is_fit_user)), t)
              for s, t in zip(splits, tuned, strict=True)]
    common = [n for n in trains[0] if all(n in t for t in trains)]
    trains = [{n: t[n] for n in common} for t in trains]
    clock.lap("fit_train")
    say("fitting the blend")
    config, trains, blend, info["selection"], info["candidates"] = confirmed_cf(
        splits, config, trains, close, users, fit_users, select_users, info.get("cf_tuning"))
    del close
    train = trains[0]
    clock.lap("fit_blend")
    if config.audience.category_weights:
        say("choosing the audience's category weight")
        config, info["audience"] = tune_audience(split, config, train, blend)
        clock.lap("audience")
    states = {n: c.state() for n, c in train.items() if isinstance(c, PathComponent)}
    # the validation graph, its caches and its fits are done with: the refit's own caches
    # of the whole graph would otherwise come on top of them (the build's peak memory)
    del split, splits, others, train, trains, tuned
    release_memory()
    say("choosing the audience's weights on a time cut")
    config, info.setdefault("audience", {})["time_cut"] = choose_on_cut(
        graph, config, blend, FitShared(content, path_states=states))
    release_memory()
    clock.lap("audience_time_cut")
    say("refitting components on all data")
    comps = _fit_components(graph, config, FitShared(content, path_states=states))
    comps = {n: comps[n] for n in blend.names if n in comps}
    if tuple(comps) != blend.names:  # a component vanished on the full graph: unlikely
        if blend.kind == "gbdt":
            raise RuntimeError(f"components {sorted(set(blend.names) - set(comps))} have no "
                               "evidence on the full graph; the learned ranker needs them")
        keep = [j for j, n in enumerate(blend.names) if n in comps]
        blend = Blend(tuple(comps), blend.weights[keep], blend.kind, blend.validation)
    clock.lap("refit")
    info["seconds"] = clock.seconds()
    return HybridModel(graph, config, comps, blend, info)


def _validation_splits(graph: KnowledgeGraph, config: HybridConfig) -> list[HoldoutSplit]:
    """The validation folds, held out from the target relations
    (:func:`recommend.hybrid.targets.resolve_targets`): the split of ``split.holdout_mode``, and,
    when that one is not drawn at random and ``split.random_fold`` asks for it, a second one held
    out at random (another draw): the build cannot know whether it will be judged on what
    comes next or on anything, so it validates on both."""
    targets, record = resolve_targets(graph, config.split.target_relations,
                                      config.split.min_user_items)
    folds = [holdout_split(graph, target_relations=targets,
                           fraction=config.split.holdout_fraction,
                           min_user_items=config.split.min_user_items, seed=config.seed,
                           derived=config.split.derived_relations, mode=config.split.holdout_mode)]
    folds[0].report["targets"] = record
    if config.split.random_fold and folds[0].mode != "random":
        folds.append(holdout_split(graph, target_relations=targets,
                                   fraction=config.split.holdout_fraction,
                                   min_user_items=config.split.min_user_items, seed=config.seed + 1,
                                   derived=config.split.derived_relations, mode="random"))
    return folds


class _Clock:
    """Seconds spent per step of the fit."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now

    def seconds(self) -> dict[str, float]:
        total = time.perf_counter() - self.started
        return {k: round(v, 3) for k, v in {**self.laps, "total": total}.items()}
