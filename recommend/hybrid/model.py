"""HybridModel: fitted components + blend over one graph; ranking, saving, loading.

Fitting lives in :mod:`recommend.hybrid.fit`; the components keep one contract
(:mod:`recommend.hybrid.component`), so saving and loading are loops over them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.atomic import atomic_write_json
from kg.interactions import seen_matrix
from recommend.hybrid.blend import Blend, top_k_rows
from recommend.hybrid.candidates import Candidates, gather, seen_prior, take_columns
from recommend.hybrid.cold import cold_parts
from recommend.hybrid.component import Component, component_type
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.encoders import LsaEncoder, SentenceEncoder, TextEncoder
from recommend.hybrid.normalise import normalise
from recommend.hybrid.path_component import PathComponent
from recommend.hybrid.quotas import component_sizes
from recommend.hybrid.ranker import design_matrix, load_booster, save_booster

if TYPE_CHECKING:
    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph

MODEL_FILE = "hybrid.json"
MODEL_FORMAT = 1


@dataclass
class Ranked:
    """A batch's candidates, their normalised features, blended scores and (when the blend
    or the fitting needs it) the learned ranker's design matrix."""

    candidates: Candidates
    normalised: np.ndarray
    scores: np.ndarray
    design: np.ndarray | None = None


@dataclass
class HybridModel:
    """Serving state: the graph, the fitted components (by name) and the blend."""

    graph: KnowledgeGraph
    config: HybridConfig
    components: dict[str, Component]
    blend: Blend
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh_seen()

    def refresh_seen(self) -> None:
        """Recompute the users' seen products from the graph (with the post tier among the
        targets, the products of the posts they engaged with), and how many people saw each
        (the prior that orders a component's tied scores: :func:`recommend.hybrid.candidates.
        tie_broken`)."""
        self.seen_ = seen_matrix(self.graph, self.config.split.target_relations).tocsr()
        self.item_prior_ = seen_prior(self.seen_)

    # ----- ranking -----
    def rank(self, users: np.ndarray, allowed: np.ndarray,
             force: np.ndarray | None = None, *, extra: np.ndarray | None = None,
             with_design: bool = False, least: int = 0) -> Ranked:
        """Candidates of graph user indices ``users`` among ``allowed`` (rows x products).

        Scored outside the pool, so that they change no other candidate's score: ``force``
        (per row, an item index or -1) and each component's top N among ``extra`` (rows x
        products: a filter's matches). ``least``: each component's top N holds at least
        that many (a request for more products than the candidates hold).
        """
        users = np.asarray(users, np.int64)
        # only products some row may get are ranked (knowledge graphs hold many link-only
        # product nodes); candidates' items are mapped back to product indices. One row (a
        # request) ranks every product: its scores are rows over the whole catalogue anyway,
        # and no component then gathers them into the columns asked for (the same
        # candidates: a top N keeps the lowest indices of its ties, in either numbering)
        if len(users) == 1:
            cols = np.arange(allowed.shape[1])
        else:
            wanted = allowed.any(axis=0) if extra is None else (allowed.any(axis=0)
                                                                | extra.any(axis=0))
            if force is not None:
                wanted[force[force >= 0]] = True
            cols = np.flatnonzero(wanted)
        scores = {name: self.components[name].candidates(users, cols)
                  for name in self.blend.names}
        sub = None
        if force is not None:
            pos = np.full(allowed.shape[1], -1, np.int64)
            pos[cols] = np.arange(len(cols))
            sub = np.where(force >= 0, pos[np.maximum(force, 0)], -1)
        found = gather(scores, take_columns(allowed, cols),
                       [max(n, least) for n in component_sizes(self.config, self.blend.names)],
                       sub, None if extra is None else take_columns(extra, cols),
                       prior=(self.item_prior_ if len(cols) == len(self.item_prior_)
                              else self.item_prior_[cols]))  # (the array itself: its bump kept)
        cands = (found if len(cols) == allowed.shape[1]  # every product: positions are indices
                 else dataclasses.replace(found, items=cols[found.items]))
        norm = normalise(cands.features, cands.rows, cands.n_rows, self.config.blend.normalisation,
                         cands.pool)
        design = None
        if with_design or self.blend.scores_design:
            design = design_matrix(cands.features, norm, cands.rows, cands.n_rows,
                                   self.history_sizes(users), cands.pool)
        return Ranked(cands, norm, self.blend.score(norm, design), design)

    def row_scores(self, u: int, ranked: Ranked) -> tuple[
            np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray], str | None]:
        """One ranked row's items, served scores, the per-component parts of given candidate
        positions (computed only for those: a learned ranker's parts cost a TreeSHAP pass)
        and the fallback reason.

        A user without product history (unknown, or known only from posts and follows) gets
        the cold-start blend (:mod:`recommend.hybrid.cold`).
        """
        cands, norm = ranked.candidates, ranked.normalised
        names = self.blend.names
        seen = self.seen_
        if u < seen.shape[0] and seen.indptr[u + 1] > seen.indptr[u]:
            blend, design = self.blend, ranked.design

            def parts_of(rows: np.ndarray) -> np.ndarray:
                return blend.parts(norm[rows], None if design is None else design[rows])

            return cands.items, ranked.scores, parts_of, None
        parts, reason = cold_parts(names, [self.components[n].cold for n in names],
                                   cands.features, norm, u >= self.graph.num_nodes("user"))
        return cands.items, parts.sum(axis=1), parts.__getitem__, reason

    def history_sizes(self, users: np.ndarray) -> np.ndarray:
        """How many products each of ``users`` has seen (0 for users unknown to the graph)."""
        sizes = np.diff(self.seen_.indptr)
        out = np.zeros(len(users), np.int64)
        known = users < len(sizes)
        out[known] = sizes[users[known]]
        return out

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
            seen = self.seen_
            for r, u in enumerate(users.tolist()):  # straight from CSR: cheap per request
                if u < seen.shape[0]:
                    out[r, seen.indices[seen.indptr[u]:seen.indptr[u + 1]]] = False
        return out

    def refresh(self, delta: GraphDelta | None = None) -> None:
        """Update every component cheaply from the (grown) graph; with the
        :class:`kg.delta.GraphDelta` it was grown by, only what that touches."""
        for comp in self.components.values():
            comp.refresh(self.graph, delta)
        self.refresh_seen()

    # ----- persistence -----
    def save(self, folder: Path) -> list[Path]:
        """Write the model files into ``folder`` (inside an atomic artifact folder)."""
        from kg.graph_io import shopgraph_version

        written: list[Path] = []
        paths = [c for c in self.components.values() if isinstance(c, PathComponent)]
        for comp in self.components.values():
            if not isinstance(comp, PathComponent):
                written += comp.save(folder)
            elif comp is paths[0]:  # the path components share one file: written once
                written += PathComponent.save_all(paths, folder)
        if self.blend.kind == "gbdt":
            written.append(save_booster(self.blend.booster, folder))
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
        try:
            kinds = {name: component_type(name) for name in state["components"]}
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        comps = {name: kind.load(folder, graph, config) for name, kind in kinds.items()}
        booster = load_booster(folder) if state["blend"]["kind"] == "gbdt" else None
        return cls(graph, config, comps, Blend.from_json(state["blend"], booster),
                   state.get("info", {}))


def make_encoder(config: HybridConfig, cache_dir: str | os.PathLike[str] | None = None
                 ) -> TextEncoder | None:
    """The configured text encoder (unfitted for LSA), or None; sentence vectors are cached
    under ``cache_dir`` when given."""
    if config.content.encoder == "sentence-transformers":
        return SentenceEncoder(config.content.embed_model, int8=config.content.embed_int8,
                               max_tokens=config.content.embed_max_tokens, cache_dir=cache_dir)
    if config.content.encoder == "lsa":
        return LsaEncoder(dim=config.content.lsa_dim, n_features=config.content.lsa_features,
                          seed=config.seed)
    return None

