"""The knowledge graph: typed nodes with attributes, and weighted, time-stamped typed edges.

Refinement of DESIGN.md (which makes a networkx graph the source of truth): the source of
truth here is a compact columnar store. A networkx MultiDiGraph costs about 1 KB per edge,
so the 1M-event target (< 2 GB RSS) is out of reach with it; numpy columns cost ~28 bytes
per edge. networkx stays the graph people look at and walk: :meth:`KnowledgeGraph.to_networkx`
derives the whole graph or an induced subgraph; scoring uses :meth:`KnowledgeGraph.matrix`.
Walking one node's edges (:meth:`KnowledgeGraph.neighbors`, :meth:`~KnowledgeGraph.has_edge`)
goes through each block's cached adjacency (:meth:`kg.edges.EdgeBlock.adjacency`) and costs
O(degree); :meth:`KnowledgeGraph.neighbor_indices` gives the same edges as index arrays.

:class:`KnowledgeGraph` is built in layers: the node and edge columns (adding nodes and edges)
are :class:`kg.graph_store.GraphStore`, relation matrices and neighbour queries
:class:`kg.graph_index.GraphIndex`; this module adds whole-graph operations (summary, equality,
networkx view). :meth:`KnowledgeGraph.add_edges` creates endpoint nodes that do not exist yet
(without attributes); :meth:`KnowledgeGraph.described` tells record-made nodes from such
endpoint-only ones. Persistence (``save``/``load``) lives in :mod:`kg.graph_io`, RDF in
:mod:`kg.rdf`.

>>> g = KnowledgeGraph()
>>> g.add_edges("purchased", ["user:1"], ["product:A"], ts=[1.0e9])
>>> g.has_edge("user:1", "purchased", "product:A"), g.matrix("purchased", "product").shape
(True, (1, 1))
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.edges import Edge, EdgeColumns, NeighborIndices
from kg.graph_index import GraphIndex
from kg.schema import NODE_TYPES

if TYPE_CHECKING:
    import networkx

    from kg.records import Dataset

__all__ = ["Edge", "EdgeColumns", "GraphSummary", "KnowledgeGraph", "NeighborIndices",
           "paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load, restoring its state after.

    Building millions of small objects (records, attribute dicts) triggers full collections
    that rescan everything alive, costing a build about a third of its time; the objects
    made here hold no reference cycles, so nothing is left for the collector to find.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class GraphSummary:
    """Counts per node type and per relation (types with zero count are left out)."""

    nodes: dict[str, int]
    edges: dict[str, int]

    def __str__(self) -> str:
        rows = [("nodes", "", sum(self.nodes.values()))]
        rows += [("", t, n) for t, n in self.nodes.items()]
        rows += [("edges", "", sum(self.edges.values()))]
        rows += [("", r, n) for r, n in self.edges.items()]
        return "\n".join(f"{a:<6} {b:<16} {n:>12,}" for a, b, n in rows)


class KnowledgeGraph(GraphIndex):
    """Typed nodes and per-relation edge columns; see the module docstring."""

    # ----- whole graph -----
    def summary(self) -> GraphSummary:
        """Counts per node type and per relation."""
        edges: dict[str, int] = {}
        for (_, rel, _), block in self._blocks.items():
            edges[rel] = edges.get(rel, 0) + len(block)
        return GraphSummary(
            {t: len(ids) for t, ids in self._ids.items() if ids},
            {r: edges[r] for r in sorted(edges) if edges[r]},
        )

    def add_records(self, dataset: Dataset) -> None:
        """Add a dataset's records incrementally (no rebuild); see :mod:`kg.build`."""
        from kg.build import add_dataset

        add_dataset(self, dataset, progress=False)

    def to_networkx(self, nodes: Iterable[str] | None = None) -> networkx.MultiDiGraph:
        """The graph (or the subgraph induced by ``nodes``) as a networkx MultiDiGraph."""
        from kg.networkx_view import to_networkx

        return to_networkx(self, nodes)

    def __eq__(self, other: object) -> bool:
        """Same nodes with the same attributes and the same multiset of edges (any order)."""
        if not isinstance(other, KnowledgeGraph):
            return NotImplemented
        return self._canonical() == other._canonical()

    __hash__ = None  # type: ignore[assignment]

    def _canonical(self) -> tuple[dict[str, Any], dict[tuple[str, str, str], list[tuple]]]:
        nodes = {
            f"{t}:{r}": a or {}
            for t in NODE_TYPES
            for r, a in zip(self._ids[t], self._attrs[t], strict=True)
        }
        edges = {}
        for key, block in self._blocks.items():
            # unknown (NaN) values sort and compare as -inf
            rows = sorted(
                (e.src, e.dst, e.weight, -math.inf if e.ts is None else e.ts,
                 tuple(sorted((k, -math.inf if math.isnan(v) else v)
                              for k, v in e.columns.items())))
                for e in block.columns().edges(range(len(block)), self._ids[key[0]],
                                               self._ids[key[2]])
            )
            if rows:
                edges[key] = rows
        return nodes, edges

    # ----- persistence (kg.graph_io) -----
    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write the graph's files into ``folder``; the paths written (see :mod:`kg.graph_io`)."""
        from kg.graph_io import save_graph

        return save_graph(self, folder)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> KnowledgeGraph:
        """Load a graph written by :meth:`save` (see :mod:`kg.graph_io`)."""
        from kg.graph_io import load_graph

        return load_graph(folder, cls)
