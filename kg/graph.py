"""The knowledge graph: typed nodes with attributes, and weighted, time-stamped typed edges.

Refinement of DESIGN.md (which makes a networkx graph the source of truth): the source of
truth here is a compact columnar store. A networkx MultiDiGraph costs about 1 KB per edge,
so the 1M-event target (< 2 GB RSS) is out of reach with it; numpy columns cost ~28 bytes
per edge. networkx stays the graph people look at and walk: :meth:`KnowledgeGraph.to_networkx`
derives the whole graph or an induced subgraph; scoring uses :meth:`KnowledgeGraph.matrix`.
Walking one node's edges (:meth:`KnowledgeGraph.neighbors`, :meth:`~KnowledgeGraph.has_edge`)
goes through each block's cached adjacency (:meth:`kg.edges.EdgeBlock.adjacency`) and costs
O(degree); :meth:`KnowledgeGraph.neighbor_indices` gives the same edges as index arrays.

Nodes: per node type, a list of raw ids (index order), an index dict and per-node JSON-able
attributes. Edges: per (source type, relation, destination type) an :class:`kg.edges.EdgeBlock`.
:meth:`KnowledgeGraph.add_edges` creates endpoint nodes that do not exist yet (without
attributes), so enrichment and loaded relations need no separate node pass; the endpoint
types are still checked against the relation table of :mod:`kg.schema`, and
:meth:`KnowledgeGraph.described` tells record-made nodes from such endpoint-only ones.
Persistence (``save``/``load``) lives in :mod:`kg.graph_io`, RDF in :mod:`kg.rdf`.

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp

from kg.edges import Adjacency, Edge, EdgeBlock, EdgeColumns, NeighborIndices
from kg.schema import NODE_TYPES, check_endpoint_types, relation, split_id

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


class KnowledgeGraph:
    """Typed nodes and per-relation edge columns; see the module docstring."""

    def __init__(self) -> None:
        self._ids: dict[str, list[str]] = {t: [] for t in NODE_TYPES}
        self._index: dict[str, dict[str, int]] = {t: {} for t in NODE_TYPES}
        self._attrs: dict[str, list[dict[str, Any] | None]] = {t: [] for t in NODE_TYPES}
        self._blocks: dict[tuple[str, str, str], EdgeBlock] = {}
        self._matrices: dict[tuple[str, str, str], tuple[int, int, int, sp.csr_matrix]] = {}
        self._node_version = 0  # bumped when a node or attribute is added; caches compare it
        self._described: dict[str, tuple[int, int, np.ndarray]] = {}
        self._ranks: dict[str, tuple[int, int, np.ndarray]] = {}
        self._ends: tuple[int, dict[tuple[str, str], list]] = (0, {})  # see _blocks_at

    # ----- nodes -----
    def add_node(self, node_id: str, **attrs: Any) -> int:
        """Add ``node_id`` (or merge ``attrs`` into it); None values are skipped. Its index."""
        node_type, raw = split_id(node_id)
        i = self._intern_one(node_type, raw)
        values = {k: v for k, v in attrs.items() if v is not None}
        if values:
            current = self._attrs[node_type][i]
            self._attrs[node_type][i] = {**(current or {}), **values}
            self._node_version += 1
        return i

    def has_node(self, node_id: str) -> bool:
        node_type, _, raw = node_id.partition(":")
        return raw in self._index.get(node_type, {})

    def node_attrs(self, node_id: str) -> dict[str, Any]:
        """A copy of the node's attributes; KeyError if there is no such node."""
        node_type = split_id(node_id)[0]
        return dict(self._attrs[node_type][self.index(node_id)] or {})

    def nodes(self, node_type: str) -> list[str]:
        """Typed ids of ``node_type`` in index order."""
        if node_type not in self._ids:
            raise ValueError(f"unknown node type {node_type!r}; known: {NODE_TYPES}")
        return [f"{node_type}:{raw}" for raw in self._ids[node_type]]

    def num_nodes(self, node_type: str | None = None) -> int:
        """Node count of one type, or of all."""
        if node_type is None:
            return sum(len(ids) for ids in self._ids.values())
        return len(self._ids[node_type])

    def index(self, node_id: str) -> int:
        """The node's index within its type; KeyError naming the id if absent."""
        node_type, raw = split_id(node_id)
        try:
            return self._index[node_type][raw]
        except KeyError:
            raise KeyError(f"no node {node_id!r} in the graph") from None

    def node_id(self, node_type: str, index: int) -> str:
        """The typed id of node ``index`` of ``node_type``."""
        return f"{node_type}:{self._ids[node_type][index]}"

    def raw_ids(self, node_type: str) -> list[str]:
        """Raw (untyped) ids of ``node_type`` in index order (the store's list: do not modify)."""
        return self._ids[node_type]

    def id_ranks(self, node_type: str) -> np.ndarray:
        """Each node's rank (index order) in the sorted order of its type's raw ids.

        Typed ids of one type sort as their raw ids: ``ids[argmin(ranks[js])]`` is the
        smallest of nodes ``js`` without making strings. Cached until a node is added.
        """
        ids = self._ids[node_type]
        cached = self._ranks.get(node_type)
        if cached is None or cached[:2] != (id(ids), len(ids)):
            ranks = np.empty(len(ids), np.int64)
            ranks[np.argsort(np.array(ids, dtype=str), kind="stable")] = np.arange(len(ids))
            cached = self._ranks[node_type] = (id(ids), len(ids), ranks)
        return cached[2]

    def described(self, node_type: str) -> np.ndarray:
        """Boolean mask (index order) of nodes that have attributes, i.e. came from a record.

        Nodes created only as edge endpoints (e.g. Amazon "related products" with no product
        record) are False: walk through them, but recommend only described products.
        Cached until a node or attribute is added; the result is a copy.
        """
        attrs = self._attrs[node_type]
        cached = self._described.get(node_type)
        if cached is None or cached[:2] != (self._node_version, id(attrs)):
            mask = np.fromiter((bool(a) for a in attrs), bool, len(attrs))
            cached = self._described[node_type] = (self._node_version, id(attrs), mask)
        return cached[2].copy()

    def _intern(self, node_type: str, raws: Sequence[str]) -> np.ndarray:
        """Indices of raw ids of one type, creating missing nodes (in order of appearance)."""
        found = list(map(self._index[node_type].get, raws))
        if None in found:
            for k, i in enumerate(found):
                if i is None:
                    found[k] = self._intern_one(node_type, raws[k])
        return np.array(found, dtype=np.int64)

    def _intern_one(self, node_type: str, raw: str) -> int:
        index = self._index[node_type]
        i = index.get(raw)
        if i is None:
            i = index[raw] = len(self._ids[node_type])
            self._ids[node_type].append(raw)
            self._attrs[node_type].append(None)
            self._node_version += 1
        return i

    # ----- edges -----
    def add_edges(
        self,
        relation_name: str,
        src: Sequence[str],
        dst: Sequence[str],
        weight: float | Sequence[float] | np.ndarray | None = None,
        ts: float | Sequence[float | None] | np.ndarray | None = None,
        **columns: Sequence[float] | np.ndarray,
    ) -> None:
        """Append edges ``src[i] -relation-> dst[i]`` (typed ids; missing nodes are created).

        ``weight`` defaults to 1 and ``ts`` to unknown (NaN); both may be scalars. Extra
        keyword columns are per-edge floats kept with the relation (e.g. ``start=[...]``).
        """
        n = len(src)
        if len(dst) != n:
            raise ValueError(f"{relation_name}: {n} sources but {len(dst)} destinations")
        relation(relation_name)
        w = np.broadcast_to(np.asarray(1.0 if weight is None else weight, np.float32), (n,))
        t = np.broadcast_to(_ts_array(ts, n), (n,))
        cols = {k: np.broadcast_to(np.asarray(v, np.float64), (n,)) for k, v in columns.items()}
        src_types, src_raws = _split_ids(src)
        dst_types, dst_raws = _split_ids(dst)
        groups: dict[tuple[str, str], list[int]] = {}
        if len(set(src_types)) == 1 and len(set(dst_types)) == 1:
            groups[(src_types[0], dst_types[0])] = list(range(n))
        else:
            for k, pair in enumerate(zip(src_types, dst_types, strict=True)):
                groups.setdefault(pair, []).append(k)
        for (stype, dtype), pos in groups.items():
            check_endpoint_types(relation_name, stype, dtype)
            take = np.asarray(pos, dtype=np.int64)
            self._append(
                stype, relation_name, dtype,
                self._intern(stype, [src_raws[k] for k in pos]),
                self._intern(dtype, [dst_raws[k] for k in pos]),
                w[take], t[take], {k: v[take] for k, v in cols.items()},
            )

    def _append(
        self,
        src_type: str,
        relation_name: str,
        dst_type: str,
        src: np.ndarray,
        dst: np.ndarray,
        weight: np.ndarray,
        ts: np.ndarray,
        columns: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Append index-level edges to a block (types already checked)."""
        key = (src_type, relation_name, dst_type)
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = EdgeBlock(*key)
        block.append(src, dst, weight, ts, columns)

    def edge_blocks(self, relation_name: str | None = None) -> Iterator[EdgeColumns]:
        """The consolidated edge columns of every block (of one relation if given)."""
        for key, block in self._blocks.items():
            if relation_name is None or key[1] == relation_name:
                yield block.columns()

    def num_edges(self, relation_name: str | None = None) -> int:
        """Edge count of one relation, or of all."""
        return sum(
            len(b)
            for k, b in self._blocks.items()
            if relation_name is None or k[1] == relation_name
        )

    def _block_key(
        self, relation_name: str, src_type: str | None, dst_type: str | None
    ) -> tuple[str, str, str]:
        rel = relation(relation_name)
        for given, options, side in (
            (src_type, rel.src_types, "src_type"),
            (dst_type, rel.dst_types, "dst_type"),
        ):
            if given is None and len(options) > 1:
                raise ValueError(f"{relation_name} joins several types: pass {side} in {options}")
        s, d = src_type or rel.src_types[0], dst_type or rel.dst_types[0]
        check_endpoint_types(relation_name, s, d)
        return (s, relation_name, d)

    def matrix(
        self, relation_name: str, dst_type: str | None = None, src_type: str | None = None
    ) -> sp.csr_matrix:
        """(n src-type nodes x n dst-type nodes) CSR of summed edge weights.

        Cached until the relation or the node counts change; do not modify the result.
        """
        key = self._block_key(relation_name, src_type, dst_type)
        shape = (len(self._ids[key[0]]), len(self._ids[key[2]]))
        block = self._blocks.get(key)
        version = block.version if block is not None else -1
        cached = self._matrices.get(key)
        if cached is not None and cached[:3] == (version, *shape):
            return cached[3]
        if block is None:
            m = sp.csr_matrix(shape, dtype=np.float32)
        else:
            c = block.columns()
            m = sp.csr_matrix((c.weight, (c.src, c.dst)), shape=shape, dtype=np.float32)
            m.sum_duplicates()
        self._matrices[key] = (version, *shape, m)
        return m

    def has_edge(self, src: str, relation_name: str, dst: str) -> bool:
        """Whether at least one ``src -relation-> dst`` edge exists (O(degree of src))."""
        if not (self.has_node(src) and self.has_node(dst)):
            return False
        key = (src.partition(":")[0], relation_name, dst.partition(":")[0])
        block = self._blocks.get(key)
        if block is None:
            return False
        adj = block.adjacency("src")
        lo, hi = adj.span(self.index(src))
        return bool(np.any(adj.other[lo:hi] == self.index(dst)))

    def neighbor_indices(
        self,
        node_id: str,
        relation_name: str | None = None,
        direction: Literal["out", "in"] = "out",
    ) -> list[NeighborIndices]:
        """The edges of :meth:`neighbors` as index arrays: one entry per block that has any.

        Blocks come in the graph's block order and edges in insertion order, as in
        :meth:`neighbors`; O(degree) per call (no :class:`Edge` objects are made).
        """
        if direction not in ("out", "in"):
            raise ValueError(f"direction must be 'out' or 'in', not {direction!r}")
        i = self.index(node_id)
        side = "src" if direction == "out" else "dst"
        found: list[NeighborIndices] = []
        for key, block in self._blocks_at(node_id.partition(":")[0], side):
            if relation_name is not None and key[1] != relation_name:
                continue
            adj = block.adjacency(side)
            lo, hi = adj.span(i)
            if hi > lo:
                found.append(NeighborIndices(*key, direction, adj.other[lo:hi],
                                             adj.weight[lo:hi], adj.order[lo:hi]))
        return found

    def adjacencies(self, node_type: str, direction: Literal["out", "in"] = "out"
                    ) -> list[tuple[tuple[str, str, str], Adjacency]]:
        """(block key, cached :class:`kg.edges.Adjacency`) of every block whose source
        (``out``) or destination (``in``) is of ``node_type``, in block order: the index arrays
        behind :meth:`neighbor_indices`, for walking many nodes at once. Do not modify."""
        side = "src" if direction == "out" else "dst"
        return [(k, b.adjacency(side)) for k, b in self._blocks_at(node_type, side)]

    def _blocks_at(self, node_type: str, side: str) -> list[tuple[tuple[str, str, str],
                                                                   EdgeBlock]]:
        """The blocks (in block order) whose ``side`` endpoint is of ``node_type``."""
        if self._ends[0] != len(self._blocks):
            self._ends = (len(self._blocks), {})
        lists = self._ends[1]
        found = lists.get((node_type, side))
        if found is None:
            end = 0 if side == "src" else 2
            found = lists[(node_type, side)] = [(k, b) for k, b in self._blocks.items()
                                                if k[end] == node_type]
        return found

    def neighbors(
        self,
        node_id: str,
        relation_name: str | None = None,
        direction: Literal["out", "in"] = "out",
    ) -> list[Edge]:
        """Edges leaving (``out``) or entering (``in``) ``node_id``, of one relation or all."""
        edges: list[Edge] = []
        for nb in self.neighbor_indices(node_id, relation_name, direction):
            c = self._blocks[nb.key].columns()
            edges += c.edges(nb.positions, self._ids[nb.src_type], self._ids[nb.dst_type])
        return edges

    def edges(self, relation_name: str | None = None) -> Iterator[Edge]:
        """Every edge as an :class:`Edge` (slow for big graphs: prefer :meth:`edge_blocks`)."""
        for c in self.edge_blocks(relation_name):
            yield from c.edges(range(len(c)), self._ids[c.src_type], self._ids[c.dst_type])

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


def _split_ids(node_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Types and raw ids of typed node ids; ValueError naming the first bad one."""
    parts = [x.partition(":") for x in node_ids]
    types = [p[0] for p in parts]
    raws = [p[2] for p in parts]
    if not set(types) <= set(NODE_TYPES) or "" in raws:
        for node_id in node_ids:
            split_id(node_id)  # raises with the offending id
    return types, raws


def _ts_array(ts: Any, n: int) -> np.ndarray:
    if ts is None:
        return np.full(n, np.nan)
    if np.isscalar(ts):
        return np.asarray(float(ts))
    if isinstance(ts, np.ndarray):
        return ts.astype(np.float64, copy=False)
    return np.asarray([np.nan if t is None else t for t in ts], np.float64)
