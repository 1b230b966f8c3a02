"""Shortest links (at most 3 hops, either edge direction) between two nodes, on index arrays.

:class:`LinkFinder` answers "how is this user connected to that item?" for one source node and
many targets: the source's neighbourhood is gathered once, each target's is kept as per-type
boolean masks, and a 3-hop search tests each middle node's neighbours against those masks with
numpy (O(degree) per node, no :class:`kg.edges.Edge` objects), stopping at the first hit.

The choice is deterministic and the same as a plain set-based search over typed ids: a direct
edge first; else the smallest (by typed id) common neighbour; else, walking the source's
neighbours in typed-id order (at most ``max_expand`` of them), the first that has a neighbour
of the target, and its smallest such neighbour. Between two nodes the edge given is the first
stored one found walking the node's out-edges, then its in-edges, block by block in insertion
order (as :meth:`kg.graph.KnowledgeGraph.neighbors` lists them); from the source, the
strongest of its relations first (:data:`STRONGEST_FIRST`).

:class:`LinkRules` keep a link private: with ``private`` relations given, another user than
the source appears only as someone the source follows, never joined by one of those relations
(what they bought, viewed...); ``closed`` relations are never walked and ``hidden`` nodes never
passed through. ``fallback`` relations (``described_like``, :mod:`kg.described_like`) are
walked only when no link is found without them, so the links found before they were stored
stay as they were and only an item nothing else links gains one (on ML-100K, walked freely,
they replaced some connections: mean path length 2.0019 -> 2.0002; as a fallback it stays
2.0019, bench/explanation_quality.py).

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> g.add_edges("rated", ["user:1", "user:2", "user:2"], ["product:A", "product:A", "product:B"])
>>> LinkFinder(g, "user:1").link("product:B").nodes
('user:1', 'product:A', 'user:2', 'product:B')
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from kg.described_like import RELATION

if TYPE_CHECKING:
    from kg.edges import NeighborIndices
    from kg.graph import KnowledgeGraph

__all__ = ["Around", "Link", "LinkFinder", "LinkRules"]

EdgeTriple = tuple[str, str, str]
#: A user's relations to a product, strongest first: a link's first hop shows the strongest
#: ("You bought X", not "You viewed X" of a product viewed and bought), as an evidence path's
#: does (:data:`recommend.paths.user_reasons.OWN_RELATIONS` is this order).
STRONGEST_FIRST = ("purchased", "carted", "rated", "shared", "liked", "commented", "clicked",
                   "viewed")
_CHUNK = 64  # at most this many middle nodes tested at once in the 3-hop search


@dataclass(frozen=True, slots=True)
class Link:
    """Nodes from the source to the target and the stored edge ``(src, relation, dst)`` of
    each hop (``edges[t]`` joins ``nodes[t]`` and ``nodes[t+1]``, in either direction)."""

    nodes: tuple[str, ...]
    edges: tuple[EdgeTriple, ...]


@dataclass(frozen=True)
class LinkRules:
    """What a link may walk (module docstring); the default walks everything, the
    ``fallback`` relations only when nothing else links."""

    private: frozenset[str] | None = None
    closed: frozenset[str] = frozenset()
    hidden: frozenset[str] = field(default_factory=frozenset)
    fallback: frozenset[str] = frozenset({RELATION})

    def keeps(self, node_type: str, is_source: bool, relation: str, other_type: str,
              direction: str) -> bool:
        """Whether a link may walk this block of a node of ``node_type`` (the source or not)."""
        if relation in self.closed or relation in self.fallback:
            return False
        if self.private is None:
            return True
        if is_source:
            return other_type != "user" or (relation == "follows" and direction == "out")
        if node_type == "user" and (relation in self.private or other_type == "user"):
            return False
        return not (other_type == "user" and relation in self.private)

    def filter(self, graph: KnowledgeGraph, around: Around, is_source: bool) -> Around:
        """``around`` with the blocks (and hidden nodes) a link may not walk left out."""
        blocks = []
        for nb in around.blocks:
            other = nb.dst_type if nb.direction == "out" else nb.src_type
            if not self.keeps(around.node_type, is_source, nb.relation, other, nb.direction):
                continue
            hide = self._hidden(graph, other)
            if hide is not None:
                keep = ~hide[nb.indices]
                nb = replace(nb, indices=nb.indices[keep], weights=nb.weights[keep],
                             positions=nb.positions[keep])
            if len(nb.indices):
                blocks.append(nb)
        around.blocks = blocks
        return around

    def _hidden(self, graph: KnowledgeGraph, node_type: str) -> np.ndarray | None:
        ids = [h for h in self.hidden if h.startswith(node_type + ":") and graph.has_node(h)]
        if not ids:
            return None
        mask = np.zeros(graph.num_nodes(node_type), bool)
        mask[[graph.index(h) for h in ids]] = True
        return mask


class Around:
    """One node's edges in both directions, as index arrays (out-edges first)."""

    def __init__(self, graph: KnowledgeGraph, node_id: str) -> None:
        self.node_id = node_id
        self.node_type = node_id.partition(":")[0]
        self.index = graph.index(node_id)
        self.blocks: list[NeighborIndices] = (graph.neighbor_indices(node_id, direction="out")
                                              + graph.neighbor_indices(node_id, direction="in"))

    def first_edge(self, other_type: str, other: int, other_id: str, *,
                   prefer: Sequence[str] = ()) -> EdgeTriple:
        """The stored edge joining this node and ``other`` (which must be adjacent): of a
        relation earliest in ``prefer``, else the first in block order."""
        rank = {rel: r for r, rel in enumerate(prefer)}
        joining = [nb for nb in self.blocks
                   if nb.node_type == other_type and np.any(nb.indices == other)]
        if not joining:
            raise KeyError(f"{other_id} is not adjacent to {self.node_id}")
        nb = min(joining, key=lambda b: rank.get(b.relation, len(rank)))  # stable: block order
        if nb.direction == "out":
            return (self.node_id, nb.relation, other_id)
        return (other_id, nb.relation, self.node_id)

    def masks(self, graph: KnowledgeGraph) -> dict[str, np.ndarray]:
        """Per node type, a boolean mask of the neighbours."""
        out: dict[str, np.ndarray] = {}
        for nb in self.blocks:
            t = nb.node_type
            if t not in out:
                out[t] = np.zeros(graph.num_nodes(t), bool)
            out[t][nb.indices] = True
        return out


class LinkFinder:
    """Shortest links from ``source`` to any target (module docstring); reuse it per source."""

    def __init__(self, graph: KnowledgeGraph, source: str, *, max_hops: int = 3,
                 max_expand: int = 500, rules: LinkRules | None = None) -> None:
        if not 1 <= max_hops <= 3:
            raise ValueError(f"max_hops must be 1, 2 or 3, not {max_hops}")
        self.graph, self.source = graph, source
        self.rules = rules or LinkRules()
        self.max_hops, self.max_expand = max_hops, max_expand
        self._src_type, self._src = source.partition(":")[0], graph.index(source)
        self._sorted: list[tuple[str, str, int]] | None = None
        # the search that also walks the fallback relations, when the first finds nothing
        self._wide = (None if not self.rules.fallback or not any(
            graph.num_edges(r) for r in self.rules.fallback) else LinkFinder(
                graph, source, max_hops=max_hops, max_expand=max_expand,
                rules=replace(self.rules, fallback=frozenset())))

    @functools.cached_property
    def _around(self) -> Around:
        """The source's neighbourhood, gathered on the first search (often none is needed)."""
        return self.rules.filter(self.graph, Around(self.graph, self.source), True)

    def _neighbours_sorted(self) -> list[tuple[str, str, int]]:
        """The source's distinct neighbours as (typed id, type, index), by typed id."""
        if self._sorted is None:
            keyed: set[tuple[str, int, str, int]] = set()
            for nb in self._around.blocks:
                t = nb.node_type
                js = np.unique(nb.indices)
                keyed.update(zip([t + ":"] * len(js), self.graph.id_ranks(t)[js].tolist(),
                                 [t] * len(js), js.tolist(), strict=True))
            self._sorted = [(self.graph.node_id(t, j), t, j) for _, _, t, j in sorted(keyed)]
        return self._sorted

    def link(self, target: str) -> Link | None:
        """A shortest link from the source to ``target`` of at most ``max_hops`` hops, or None
        (through a ``fallback`` relation only when there is none without).

        KeyError naming ``target`` if the graph lacks it.
        """
        found = self._link(target)
        return found if found is not None or self._wide is None else self._wide.link(target)

    def _own_edge(self, other_type: str, other: int, other_id: str) -> EdgeTriple:
        """The source's edge to a neighbour: to a product, its strongest relation."""
        return self._around.first_edge(other_type, other, other_id, prefer=STRONGEST_FIRST
                                       if other_type == "product" else ())

    def _link(self, target: str) -> Link | None:
        """:meth:`link` under the rules' ``fallback`` left unwalked."""
        g, u_id = self.graph, self.source
        t_type, t = target.partition(":")[0], g.index(target)
        near_u = self._around
        direct = [nb for nb in near_u.blocks if nb.node_type == t_type and np.any(nb.indices == t)]
        if direct:
            return Link((u_id, target), (self._own_edge(t_type, t, target),))
        if self.max_hops < 2:
            return None
        near_i = self.rules.filter(g, Around(g, target), False)
        masks = near_i.masks(g)
        skip = {(self._src_type, self._src), (t_type, t)}
        common = _smallest_hit(g, near_u.blocks, masks, skip)
        if common is not None:
            x_id, x_type, x = common
            return Link((u_id, x_id, target),
                        (self._own_edge(x_type, x, x_id), near_i.first_edge(x_type, x, x_id)))
        if self.max_hops < 3:
            return None
        if self.rules.private is not None:  # a third hop would name someone not followed
            masks.pop("user", None)
        xs = [x for x in self._neighbours_sorted()[: self.max_expand] if x[0] != target]
        a, size = 0, 1
        while a < len(xs):  # chunks of 1, 2, 4, ... 64 nodes: the first often hits
            chunk, a, size = xs[a:a + size], a + size, min(2 * size, _CHUNK)
            hit = np.flatnonzero(_reaches(g, chunk, masks, skip, self.rules))
            if len(hit) == 0:
                continue
            x_id, x_type, x = chunk[int(hit[0])]
            near_x = self.rules.filter(g, Around(g, x_id), False)
            y_id, y_type, y = _smallest_hit(g, near_x.blocks, masks, skip | {(x_type, x)})
            return Link((u_id, x_id, y_id, target),
                        (self._own_edge(x_type, x, x_id), near_x.first_edge(y_type, y, y_id),
                         near_i.first_edge(y_type, y, y_id)))
        return None


def _reaches(graph: KnowledgeGraph, xs: list[tuple[str, str, int]],
             masks: dict[str, np.ndarray], skip: set[tuple[str, int]],
             rules: LinkRules) -> np.ndarray:
    """Per middle node ``xs[k]``: has it a neighbour set in ``masks`` (not in ``skip``, not
    itself) through a block ``rules`` keep? One gather over the CSR rows of all of them, per
    block."""
    out = np.zeros(len(xs), bool)
    types = np.array([t for _, t, _ in xs])
    idx = np.array([j for _, _, j in xs], np.int64)
    for x_type in set(types.tolist()):
        rows = np.flatnonzero(types == x_type)
        for direction in ("out", "in"):
            for key, adj in graph.adjacencies(x_type, direction):
                other_type = key[2] if direction == "out" else key[0]
                mask = masks.get(other_type)
                if mask is None or not rules.keeps(x_type, False, key[1], other_type,
                                                   direction):
                    continue
                nodes, n = idx[rows], len(adj.indptr) - 1  # nodes >= n have no edge here
                lo = adj.indptr[np.minimum(nodes, n)]
                lengths = adj.indptr[np.minimum(nodes + 1, n)] - lo
                if lengths.sum() == 0:
                    continue
                owner = np.repeat(np.arange(len(rows)), lengths)
                pos = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                others = adj.other[pos + np.repeat(lo, lengths)]
                good = mask[others]
                for s_type, s in skip:
                    if s_type == other_type:
                        good &= others != s
                if other_type == x_type:
                    good &= others != nodes[owner]
                out[rows[np.unique(owner[good])]] = True
    return out


def _smallest_hit(graph: KnowledgeGraph, blocks: list[NeighborIndices],
                  masks: dict[str, np.ndarray], skip: set[tuple[str, int]]
                  ) -> tuple[str, str, int] | None:
    """The smallest (by typed id) node of ``blocks`` set in ``masks``, not in ``skip``."""
    best: tuple[str, int, int] | None = None  # (type + ":", rank, index)
    for nb in blocks:
        t = nb.node_type
        mask = masks.get(t)
        if mask is None:
            continue
        hits = nb.indices[mask[nb.indices]]
        for s_type, s in skip:
            if s_type == t:
                hits = hits[hits != s]
        if len(hits) == 0:
            continue
        ranks = graph.id_ranks(t)[hits]
        k = int(np.argmin(ranks))
        key = (t + ":", int(ranks[k]), int(hits[k]))
        if best is None or key < best:
            best = key
    if best is None:
        return None
    t = best[0][:-1]
    return graph.node_id(t, best[2]), t, best[2]
