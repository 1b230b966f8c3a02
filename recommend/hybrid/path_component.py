"""The ``graph`` and ``social`` components: a :class:`recommend.paths.GraphPathScorer` each.

``graph`` scores over the non-social meta-paths, ``social`` over the ``follows>...`` ones
(KOL weighted) and the ``followees>...`` counts ("5 people you follow rated it"). Their
meta-path weights are fitted on the fit users' held-out products and kept when the
components are refitted on the whole graph (:class:`FitShared.path_states`).
A model writes both components' meta-paths and weights into one JSON file, each under its
name (:meth:`PathComponent.save_all`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from kg.atomic import atomic_write_json
from kg.interactions import PRODUCT_RELATIONS
from recommend.hybrid.candidates import take_columns

if TYPE_CHECKING:
    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.candidates import Scores
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig
    from recommend.paths import GraphPathScorer, MetaPath
    from recommend.paths.explain import Path as InstancePath
    from recommend.paths.fidelity import Fidelity
    from recommend.paths.privacy import Privacy
    from recommend.results import ExplainedPath

GRAPH_STATE_FILE = "graph_scorers.json"


class PathComponent:
    """A :class:`GraphPathScorer` over one group of meta-paths (``name``: which group)."""

    name: ClassVar[str]
    cold: ClassVar[bool] = True  # a user's follows and posts reach products

    def __init__(self, scorer: GraphPathScorer) -> None:
        self.scorer = scorer

    @staticmethod
    def split_metapaths(graph: KnowledgeGraph, privacy: Privacy | None = None, *,
                        described_like: bool = False) -> dict[str, list[MetaPath]]:
        """The graph's available meta-paths under ``privacy`` (``described_like``: with those
        over content neighbours), social (``follows>``, and the counts over a user's follows)
        apart from the rest."""
        from recommend.paths import available_metapaths
        from recommend.paths.privacy import FOLLOWEE_AGGREGATES

        found = available_metapaths(graph, privacy=privacy, described_like=described_like)
        social = [m for m in found if m.steps[0].relation == "follows"
                  or m.steps[0].relation in FOLLOWEE_AGGREGATES]
        return {"social": social, "graph": [m for m in found if m not in social]}

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> PathComponent | None:
        """Given ``shared.path_states``, its saved weights over ``graph`` (None: none saved
        for it); else its meta-paths' weights fitted on ``shared.relevant`` (uniform without
        one). None when the graph has none of its meta-paths."""
        from recommend.paths import GraphPathScorer
        from recommend.paths.privacy import Privacy

        metapaths = cls.split_metapaths(graph, Privacy.from_config(config),
                                        described_like=config.paths.described_like)[cls.name]
        if not metapaths:
            return None
        if shared.path_states is not None:
            state = shared.path_states.get(cls.name)
            return None if state is None else cls(GraphPathScorer.from_state(graph, state))
        scorer = GraphPathScorer(metapaths, seen_relations=PRODUCT_RELATIONS,
                                 normalize=config.paths.normalize, k=config.k,
                                 max_fit_users=config.split.max_fit_users, random_state=config.seed)
        if shared.relevant is not None and shared.relevant.nnz:
            scorer.fit(graph, shared.relevant)
        else:
            scorer.prepare(graph)
        return cls(scorer)

    def state(self) -> dict[str, Any]:
        """Its meta-paths and weights, JSON-able (what a save writes and
        :class:`FitShared.path_states` carries to a refit)."""
        return self.scorer.state()

    def weighted_metapaths(self) -> list[tuple[MetaPath, float]]:
        """Its meta-paths weighted above 0, with their weights, in the scorer's order."""
        return [(mp, w) for mp, w in zip(self.scorer.metapaths_, self.scorer.weights_,
                                         strict=True) if w > 0]

    def path_scorer(self) -> GraphPathScorer:
        """Its fitted scorer, for :func:`recommend.paths.explain.scored_paths_many` (the
        paths package reads a scorer's meta-paths, weights and steps; nothing else should)."""
        return self.scorer

    def explained_paths(self, graph: KnowledgeGraph, user_id: str, item_ids: Sequence[str],
                        *, max_paths: int, privacy: Privacy | None = None
                        ) -> list[list[InstancePath]]:
        """Per item, up to ``max_paths`` of its meta-path instances carrying the item's score
        for ``user_id``, largest first (none where no weighted meta-path reaches it), none
        that ``privacy`` forbids (:func:`recommend.paths.explain.explain_paths_many`)."""
        from recommend.paths.explain import explain_paths_many

        sc = self.scorer
        return explain_paths_many(graph, user_id, item_ids, sc.metapaths_, sc.weights_,
                                  max_paths=max_paths, steps=sc.steps_, fallback=False,
                                  privacy=privacy)

    def fidelity(self, graph: KnowledgeGraph, user_id: str, item_id: str,
                 path: ExplainedPath | InstancePath) -> Fidelity:
        """Its score of ``item_id`` for ``user_id`` before and after masking ``path``'s edges
        (:func:`recommend.paths.fidelity_check`)."""
        from recommend.paths import fidelity_check

        return fidelity_check(graph, user_id, item_id, path, self.scorer)

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Recompile the step matrices over the graph (weights kept); with a ``delta`` of
        edges only, just the steps (or their rows) those edges change
        (:mod:`recommend.paths.grow`)."""
        from recommend.paths import GraphPathScorer
        from recommend.paths.grow import grown_scorer

        if delta is not None and delta.incremental:
            self.scorer = grown_scorer(self.scorer, graph, delta)
            return
        self.scorer = GraphPathScorer.from_state(graph, self.state())

    def scores(self, users: np.ndarray) -> np.ndarray:
        n_users = self.scorer.graph_.num_nodes("user")
        n_items = self.scorer.graph_.num_nodes("product")
        known = users < n_users
        if known.all():  # (a request) the scorer's own rows, not copied into a second array
            return self.scorer.score_dense(users)
        out = np.zeros((len(users), n_items))
        if known.any():
            out[known] = self.scorer.score_dense(users[known])
        return out

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        return take_columns(self.scores(users), columns)

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """Every user's score of product ``i``: each meta-path ``S1 S2 .. Sm`` pushed right to
        left from the product's one-hot column, ``S1 (S2 (.. Sm[:, i]))`` (sparse mat-vecs,
        never a users x products matrix)."""
        out = np.zeros(n_users)
        for mp, w in self.weighted_metapaths():
            steps = self.scorer.steps_[mp.name]
            col = np.zeros(steps[-1].shape[1])
            col[i] = 1.0
            for m in reversed(steps):
                col = m @ col
            out[: len(col)] += w * col[:n_users]
        return out

    def influencers(self) -> frozenset[str]:
        """The users its KOL weighting flags as influencers (none without one)."""
        kol = self.scorer.kol_
        return frozenset(() if kol is None else kol.influencers())

    def same_influencers(self, other: object) -> bool:
        """Whether ``other`` is a path component with the very KOL weights it has (an add
        without follows keeps them): their influencers are the same."""
        return isinstance(other, PathComponent) and other.scorer.kol_ is self.scorer.kol_

    def save(self, folder: Path) -> list[Path]:
        """Its meta-paths and weights in the scorers file, beside the other path components'
        already there (a model writes them together: :meth:`save_all`)."""
        path = folder / GRAPH_STATE_FILE
        states = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        atomic_write_json(path, {**states, self.name: self.state()})
        return [path]

    @staticmethod
    def save_all(components: Sequence[PathComponent], folder: Path) -> list[Path]:
        """Every one of ``components``' meta-paths and weights, each under its name, in one
        atomic write of the scorers file."""
        path = folder / GRAPH_STATE_FILE
        atomic_write_json(path, {c.name: c.state() for c in components})
        return [path]

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph, config: HybridConfig) -> PathComponent:
        from recommend.paths import GraphPathScorer
        from recommend.paths.listed_walks import list_walks

        path = folder / GRAPH_STATE_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing, the model lists component {cls.name!r}")
        state = json.loads(path.read_text(encoding="utf-8"))
        if cls.name not in state:
            raise ValueError(f"{path}: no {cls.name!r} scorer, the model lists it")
        comp = cls(GraphPathScorer.from_state(graph, state[cls.name]))
        # for serving: each user's walks made now, not per request (where not too many)
        list_walks([comp.scorer.steps_[mp.name] for mp, _ in comp.weighted_metapaths()],
                   graph.num_nodes("user"))
        return comp


class GraphComponent(PathComponent):
    """The non-social meta-paths (co-interactions, categories, brands, concepts, posts)."""

    name = "graph"


class SocialComponent(PathComponent):
    """The ``follows>...`` meta-paths, KOL weighted, and the counts over the people a user
    follows (``followees>...``)."""

    name = "social"
