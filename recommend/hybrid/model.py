"""HybridModel: fitted components + blend over one graph; fitting, ranking, saving, loading.

Fitting (:func:`fit_hybrid`):

1. cut the validation split (:mod:`recommend.hybrid.split`) and fit every component on the
   training graph (the meta-path weights of the graph and social scorers are fitted there,
   on the held-out products);
2. for (at most ``max_fit_users``) validation users, gather candidates, normalise per user
   and fit the blend (:mod:`recommend.hybrid.blend`);
3. refit the components on the whole graph for serving, keeping the meta-path and blend
   weights. The content index does not depend on interactions: it is built once.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.atomic import atomic_write_json
from recommend.hybrid.blend import Blend, fit_blend, top_k_rows
from recommend.hybrid.candidates import Candidates, gather
from recommend.hybrid.components import (
    CfComponent,
    ContentComponent,
    PathComponent,
    PopularityComponent,
    load_path_components,
    save_path_components,
)
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.encoders import LSA_FILE, LsaEncoder, SentenceEncoder, TextEncoder
from recommend.hybrid.normalise import normalise
from recommend.hybrid.split import (
    PRODUCT_RELATIONS,
    ValidationSplit,
    seen_matrix,
    validation_split,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

MODEL_FILE = "hybrid.json"
MODEL_FORMAT = 1
_BATCH = 256


@dataclass
class Ranked:
    """A batch's candidates, their normalised features and blended scores."""

    candidates: Candidates
    normalised: np.ndarray
    scores: np.ndarray


@dataclass
class HybridModel:
    """Serving state: the graph, the fitted components (by name) and the blend."""

    graph: KnowledgeGraph
    config: HybridConfig
    components: dict[str, Any]
    blend: Blend
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh_seen()

    def refresh_seen(self) -> None:
        """Recompute the users' seen products from the graph."""
        self.seen_ = seen_matrix(self.graph).tocsr()

    # ----- ranking -----
    def rank(self, users: np.ndarray, allowed: np.ndarray,
             force: np.ndarray | None = None) -> Ranked:
        """Candidates of graph user indices ``users`` among ``allowed`` (rows x products).

        ``force`` (per row, an item index or -1) adds an item to the row's candidates.
        """
        users = np.asarray(users, np.int64)
        # only products some row may get are ranked (knowledge graphs hold many link-only
        # product nodes); candidates' items are mapped back to product indices
        wanted = allowed.any(axis=0)
        if force is not None:
            wanted[force[force >= 0]] = True
        cols = np.flatnonzero(wanted)
        pos = np.full(allowed.shape[1], -1, np.int64)
        pos[cols] = np.arange(len(cols))
        scores = {name: self.components[name].scores(users)[:, cols]
                  for name in self.blend.names}
        sub = None if force is None else np.where(force >= 0, pos[np.maximum(force, 0)], -1)
        found = gather(scores, allowed[:, cols], self.config.candidates_per_component, sub)
        cands = dataclasses.replace(found, items=cols[found.items])
        norm = normalise(cands.features, cands.rows, cands.n_rows, self.config.normalisation)
        return Ranked(cands, norm, self.blend.score(norm))

    def top_k(self, users: np.ndarray, k: int, *, mask: np.ndarray | None = None,
              batch: int = 128) -> np.ndarray:
        """(len(users), k) product indices of each user's blended top ``k`` (-1 pads).

        Seen products are excluded; ``mask`` (default: described products) limits the rest.
        Batch evaluation for users with a history (no cold-start fallback: see Recommender).
        """
        users = np.asarray(users, np.int64)
        mask = self.graph.described("product") if mask is None else mask
        out = np.full((len(users), k), -1, np.int64)
        for a in range(0, len(users), batch):
            b = users[a:a + batch]
            r = self.rank(b, self.allowed(b, mask, exclude_seen=True))
            top = top_k_rows(r.scores, r.candidates.rows, r.candidates.items, len(b), k)
            out[a:a + len(b), : top.shape[1]] = top
        return out

    def allowed(self, users: np.ndarray, mask: np.ndarray, exclude_seen: bool) -> np.ndarray:
        """(users x products): ``mask`` minus what each known user has seen."""
        out = np.broadcast_to(mask, (len(users), len(mask))).copy()
        if exclude_seen:
            known = users < self.seen_.shape[0]
            sub = self.seen_[users[known]]
            kr = np.flatnonzero(known)
            out[np.repeat(kr, np.diff(sub.indptr)), sub.indices] = False
        return out

    def refresh(self) -> None:
        """Update every component cheaply from the (grown) graph."""
        for comp in self.components.values():
            comp.refresh(self.graph)
        self.refresh_seen()

    # ----- persistence -----
    def save(self, folder: Path) -> list[Path]:
        """Write the model files into ``folder`` (inside an atomic artifact folder)."""
        from kg.graph_io import shopgraph_version

        written: list[Path] = []
        for comp in self.components.values():
            if hasattr(comp, "save"):
                written += comp.save(folder)
        written.append(save_path_components(self.components, folder))
        state = {
            "format": MODEL_FORMAT,
            "shopgraph_version": shopgraph_version(),
            "config": self.config.to_dict(),
            "components": list(self.components),
            "blend": self.blend.to_json(),
            "info": self.info,
        }
        atomic_write_json(folder / MODEL_FILE, state)
        written.append(folder / MODEL_FILE)
        return written

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph) -> HybridModel:
        """Read what :meth:`save` wrote, over the artifact's ``graph``."""
        path = folder / MODEL_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no hybrid model in this artifact "
                                    "(build it with the model stage)")
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != MODEL_FORMAT:
            raise ValueError(f"{path}: model format {state.get('format')!r}, "
                             f"expected {MODEL_FORMAT}")
        config = HybridConfig.from_dict(state["config"])
        names = state["components"]
        comps: dict[str, Any] = dict(load_path_components(folder, graph))
        if "cf" in names:
            comps["cf"] = CfComponent.load(folder, graph)
        if "content" in names:
            from recommend.content import ContentIndex

            comps["content"] = ContentComponent(
                ContentIndex.load(folder), graph, half_life_days=config.content_half_life_days,
                encoder=_saved_encoder(config, folder))
        if "popularity" in names:
            comps["popularity"] = PopularityComponent(graph)
        comps = {n: comps[n] for n in names}
        return cls(graph, config, comps, Blend.from_json(state["blend"]), state.get("info", {}))


def make_encoder(config: HybridConfig) -> TextEncoder | None:
    """The configured text encoder (unfitted for LSA), or None."""
    if config.content_encoder == "sentence-transformers":
        return SentenceEncoder(config.embed_model)
    if config.content_encoder == "lsa":
        return LsaEncoder(dim=config.lsa_dim, n_features=config.lsa_features, seed=config.seed)
    return None


def _saved_encoder(config: HybridConfig, folder: Path) -> TextEncoder | None:
    if config.content_encoder == "lsa" and (folder / LSA_FILE).is_file():
        return LsaEncoder.load(folder)
    return make_encoder(config) if config.content_encoder == "sentence-transformers" else None


# ----- fitting -----
def _cf_kind(config: HybridConfig, graph: KnowledgeGraph) -> str:
    if config.cf_model != "auto":
        return config.cf_model
    active = int((np.diff(seen_matrix(graph).tocsc().indptr) > 0).sum())
    return "ease" if active <= config.ease_max_items else "als"


def _cf_params(config: HybridConfig) -> dict[str, Any]:
    return {"lam": config.ease_lam, "recency_tau": config.ease_recency_tau,
            "factors": config.als_factors, "iterations": config.als_iterations,
            "reg": config.als_reg, "alpha": config.als_alpha, "seed": config.seed}


def _tune_cf(split: ValidationSplit, config: HybridConfig, users: np.ndarray
             ) -> tuple[HybridConfig, CfComponent, dict[str, float]]:
    """Best cf model on the validation users (CF alone, NDCG@k): EASE over the lambda x tau
    grid, and weighted ALS (at its configured factors / reg / alpha grid) if asked."""
    from cf.base import top_k
    from recommend.evaluate.metrics import ndcg_at_k

    graph = split.train_graph
    allowed = graph.described("product")
    seen = seen_matrix(graph)
    relevant = split.relevant[users]

    def value(comp: CfComponent) -> float:
        recs = []
        for a in range(0, len(users), _BATCH):
            batch = users[a:a + _BATCH]
            s = comp.scores(batch)
            s[:, ~allowed] = -np.inf
            s[seen[batch].nonzero()] = -np.inf
            recs.append(top_k(s, config.k)[0])
        return ndcg_at_k(np.vstack(recs), relevant, config.k)

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
            cfg = dataclasses.replace(config, cf_model="als", als_reg=float(reg))
            trial(f"als,reg={reg:g}", cfg,
                  CfComponent.fit(graph, kind="als", params=_cf_params(cfg)))
    if best is None:
        raise ValueError("cf_tune_models names no known model ('ease', 'als')")
    return best[1], best[2], tried


def _fit_components(
    graph: KnowledgeGraph, config: HybridConfig, content: ContentComponent | None,
    relevant: sp.csr_matrix | None, path_states: dict[str, Any] | None,
    cf: CfComponent | None = None,
) -> dict[str, Any]:
    """Every configured component over ``graph``: fitted, or (path scorers) given weights."""
    from recommend.paths import GraphPathScorer

    comps: dict[str, Any] = {}
    wanted = config.components
    if "cf" in wanted and cf is not None:
        comps["cf"] = cf
    elif "cf" in wanted and seen_matrix(graph).nnz:
        comps["cf"] = CfComponent.fit(graph, kind=_cf_kind(config, graph),
                                      params=_cf_params(config))
    if "content" in wanted and content is not None:
        comps["content"] = ContentComponent(content.index, graph,
                                            half_life_days=config.content_half_life_days,
                                            encoder=content.encoder)
    groups = PathComponent.split_metapaths(graph)
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
    cf = None
    if "cf" in config.components and (
            config.cf_tune_lams or config.cf_tune_taus or config.cf_tune_als_regs):
        say("tuning the cf component")
        config, cf, info["cf_tuning"] = _tune_cf(split, config, users)
    seconds["tune_cf"] = time.perf_counter() - began
    say(f"fitting components on the training graph ({len(users)} validation users)")
    began = time.perf_counter()
    train = _fit_components(split.train_graph, config, content, split.relevant, None, cf)
    seconds["fit_train"] = time.perf_counter() - began
    began = time.perf_counter()
    probe = HybridModel(split.train_graph, config, train,
                        Blend(tuple(train), np.ones(len(train))))
    feats, rows, items = [], [], []
    described = split.train_graph.described("product")
    for a in range(0, len(users), _BATCH):
        batch = users[a:a + _BATCH]
        ranked = probe.rank(batch, probe.allowed(batch, described, exclude_seen=True))
        feats.append(ranked.normalised)
        rows.append(ranked.candidates.rows + a)
        items.append(ranked.candidates.items)
    relevant = split.relevant[users]
    say("fitting the blend")
    blend = fit_blend(np.concatenate(feats), np.concatenate(rows), np.concatenate(items),
                      relevant, tuple(train), k=config.k, grid=config.grid,
                      rounds=config.rounds, learned=config.learned_ranker, seed=config.seed)
    seconds["fit_blend"] = time.perf_counter() - began
    recall = _candidate_recall(np.concatenate(rows), np.concatenate(items), relevant)
    info["candidate_recall"] = recall
    say("refitting components on all data")
    began = time.perf_counter()
    states = {n: c.scorer.state() for n, c in train.items() if isinstance(c, PathComponent)}
    comps = _fit_components(graph, config, content, None, states)
    comps = {n: comps[n] for n in blend.names if n in comps}
    if tuple(comps) != blend.names:  # a component vanished on the full graph: unlikely
        keep = [j for j, n in enumerate(blend.names) if n in comps]
        blend = Blend(tuple(comps), blend.weights[keep], blend.kind, blend.intercept,
                      blend.validation)
    seconds["refit"] = time.perf_counter() - began
    seconds["total"] = time.perf_counter() - started
    info["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return HybridModel(graph, config, comps, blend, info)


def _candidate_recall(rows: np.ndarray, items: np.ndarray, relevant: sp.csr_matrix) -> float:
    """Share of held-out items that made it into their user's candidate set."""
    hit = np.asarray(relevant[rows, items]).ravel() > 0
    return float(hit.sum() / max(relevant.nnz, 1))
