"""The contract every hybrid component keeps, and the one registry that names them.

A component is one source of evidence about what a user may want next (the six: ``cf``,
``session``, ``content``, ``graph``, ``social``, ``popularity``). The hybrid asks nothing
else of it than this :class:`Component` protocol, so fitting, saving, loading and
refreshing are loops over :func:`registry` (:mod:`recommend.hybrid.fit`,
:mod:`recommend.hybrid.model`):

- ``from_graph(graph, config, shared)``: fit it on a graph under a :class:`HybridConfig`,
  with what the build shares between components (:class:`FitShared`); None when the graph
  holds no evidence of its kind (no timed events for ``session``, no text for ``content``);
- ``scores(users)``: a (len(users), n products) float array over the graph's product
  indices, 0 where it has no evidence; users added after fitting (indices past the fitted
  ones) get what it can give them, often a zero row;
- ``candidates(users, columns)``: its scores over products ``columns`` in the form
  :func:`recommend.hybrid.candidates.gather` takes: dense, or a
  :class:`~recommend.hybrid.candidates.Proposer` that finds its own top N (content's index
  search) and scores only those;
- ``item_column(i, n_users)``: every user's score of one product, the transposed question
  (a marketer's audience, :mod:`recommend.marketer.columns`), equal to
  ``scores(users)[:, i]`` and computed from the item side;
- ``refresh(graph, delta)``: take the grown graph; with a :class:`kg.delta.GraphDelta` of
  added edges, only what those edges touch, exactly as a full refresh would. It replaces
  its arrays rather than writing into them (:func:`recommend.updates.grow` serves a shallow
  copy while the old model answers);
- ``save(folder)`` / ``load(folder, graph, config)``: its fitted state in safe formats
  (no pickle), the files written listed;
- ``cold``: whether it knows something of a user without product history (a user's posts,
  follows, or nothing at all): those serve the cold-start blend (:mod:`recommend.hybrid.cold`).

What one component exposes beyond this (content's product vectors, a path scorer's
influencers) is a public method of that component, never a fitted attribute read from
outside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.candidates import Scores
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.content_component import ContentComponent


@dataclass(frozen=True)
class FitShared:
    """What one fit shares between its components.

    ``content``: the content component fitted once (its index does not depend on
    interactions), rewrapped over each graph; ``relevant``: the fit users' held-out products
    (users x products), on which the meta-path scorers fit their weights (None: they keep
    uniform weights); ``path_states``: meta-path weights already fitted (by component name),
    which the path scorers take instead of fitting (the refit on the whole graph)."""

    content: ContentComponent | None = None
    relevant: sp.csr_matrix | None = None
    path_states: Mapping[str, dict[str, Any]] | None = None


class Component(Protocol):
    """One hybrid component (module docstring)."""

    name: ClassVar[str]
    cold: ClassVar[bool]

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> Component | None:
        """Fitted on ``graph``; None when the graph has no evidence of its kind."""
        ...

    def scores(self, users: np.ndarray) -> np.ndarray:
        """(len(users), n products) scores of graph user indices ``users``."""
        ...

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        """Its scores of ``users`` over products ``columns``, dense or self-proposing."""
        ...

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """Every one of ``n_users`` users' score of product ``i``."""
        ...

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Take the grown ``graph`` (with ``delta``: only what it touches)."""
        ...

    def save(self, folder: Path) -> list[Path]:
        """Write its fitted state into ``folder``; the files written."""
        ...

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph, config: HybridConfig) -> Component:
        """Read what :meth:`save` wrote, over ``graph``."""
        ...


def registry() -> dict[str, type[Component]]:
    """Every component class by name, in the order of :data:`HybridConfig.components`'s
    default."""
    from recommend.hybrid.components import CfComponent, PopularityComponent
    from recommend.hybrid.content_component import ContentComponent
    from recommend.hybrid.path_component import GraphComponent, SocialComponent
    from recommend.hybrid.session import SessionComponent

    found: tuple[type[Component], ...] = (CfComponent, SessionComponent, ContentComponent,
                                          GraphComponent, SocialComponent, PopularityComponent)
    return {c.name: c for c in found}


def component_type(name: str) -> type[Component]:
    """The registered component class called ``name`` (ValueError naming the known ones)."""
    known = registry()
    if name not in known:
        raise ValueError(f"unknown component {name!r}; known: {tuple(known)}")
    return known[name]
