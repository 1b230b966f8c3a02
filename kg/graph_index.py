"""Per-relation CSR matrices and adjacency (neighbour) queries over a :class:`GraphStore`.

Scoring uses :meth:`GraphIndex.matrix` (one cached CSR of summed weights per relation).
Walking one node's edges (:meth:`GraphIndex.neighbors`, :meth:`~GraphIndex.has_edge`) goes
through each block's cached adjacency (:meth:`kg.edges.EdgeBlock.adjacency`) and costs
O(degree); :meth:`GraphIndex.neighbor_indices` gives the same edges as index arrays.
:class:`kg.graph.KnowledgeGraph` is the public class built on this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Self

import numpy as np
import scipy.sparse as sp

from kg.edges import Adjacency, Edge, EdgeBlock, NeighborIndices
from kg.graph_store import GraphStore
from kg.schema import check_endpoint_types, relation


class GraphIndex(GraphStore):
    """A :class:`GraphStore` with relation matrices and neighbour queries (cached per block)."""

    def __init__(self) -> None:
        super().__init__()
        self._matrices: dict[tuple[str, str, str], tuple[int, int, int, sp.csr_matrix]] = {}
        self._ends: tuple[int, dict[tuple[str, str], list]] = (0, {})  # see _blocks_at

    def fork(self) -> Self:
        """See :meth:`GraphStore.fork`; cached matrices carry over (each checks its block's
        version and the node counts), the per-type block lists are rebuilt for the fork's
        blocks."""
        other = super().fork()
        other._matrices = dict(self._matrices)
        other._ends = (0, {})
        return other

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
