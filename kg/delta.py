"""What adding records changed in a graph, and CSR row splicing to follow it cheaply.

:meth:`recommend.Recommender.add` grows a *fork* of the served graph
(:meth:`kg.graph_store.GraphStore.fork`); :func:`graph_delta` compares the two: which edge
blocks grew, which users gained edges, and whether any node or attribute was added. When no
node was added, every matrix derived from the graph keeps its shape, and a per-user matrix
(seen products, pair times, histories, content weights) differs from the old one only in
the rows of :attr:`GraphDelta.users`: :func:`splice_rows` builds the new matrix from the old
one and those rows, recomputed by the same code as the full matrix (so the result is the
full recomputation's, row for row), in O(nnz) copying instead of a rebuild.

>>> import scipy.sparse as sp
>>> old = sp.csr_matrix([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
>>> splice_rows(old, np.array([1]), sp.csr_matrix([[5.0, 6.0]])).toarray().tolist()
[[1.0, 0.0], [5.0, 6.0], [3.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from kg.graph_store import GraphStore

__all__ = ["GraphDelta", "graph_delta", "splice_rows"]


@dataclass(frozen=True)
class GraphDelta:
    """How a grown graph differs from the one it was forked from.

    ``blocks``: the (source type, relation, destination type) blocks that gained edges;
    ``users``: sorted indices of the users that are the source of a new edge;
    ``nodes_changed``: a node or attribute was added (shapes or node facts may differ, so
    derived state must be recomputed whole); ``old``: the graph it was grown from.
    """

    blocks: frozenset[tuple[str, str, str]]
    users: np.ndarray
    nodes_changed: bool
    old: GraphStore = field(repr=False)

    @property
    def relations(self) -> frozenset[str]:
        """The relations that gained edges."""
        return frozenset(key[1] for key in self.blocks)

    @property
    def incremental(self) -> bool:
        """Whether only edges were added (derived state may be updated row by row)."""
        return not self.nodes_changed

    def touches(self, relations: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
        """Whether any of ``relations`` gained edges."""
        return not self.relations.isdisjoint(relations)


def graph_delta(old: GraphStore, new: GraphStore) -> GraphDelta:
    """The :class:`GraphDelta` of ``new``, grown from ``old`` by appending only (a fork)."""
    blocks, users = set(), []
    for key, block in new._blocks.items():
        before = old._blocks.get(key)
        if before is not None and before.version == block.version:
            continue
        blocks.add(key)
        if key[0] == "user":
            start = 0 if before is None else len(before)
            users.append(block.columns().src[start:])
    found = np.unique(np.concatenate(users)) if users else np.zeros(0, np.int64)
    changed = not new.same_nodes(old)
    return GraphDelta(frozenset(blocks), found.astype(np.int64), changed, old)


def splice_rows(old: sp.csr_matrix, rows: np.ndarray, new_rows: sp.csr_matrix
                ) -> sp.csr_matrix:
    """``old`` with its rows ``rows`` (sorted, unique) replaced by the rows of ``new_rows``
    (``len(rows)`` x the same columns), as a new CSR (``old`` is left unchanged)."""
    if not isinstance(old, sp.csr_matrix):  # a CSR is kept as it is: its sortedness is known
        old = sp.csr_matrix(old)
    new_rows = sp.csr_matrix(new_rows, dtype=old.dtype)
    rows = np.asarray(rows, np.int64)
    if new_rows.shape != (len(rows), old.shape[1]):
        raise ValueError(f"new rows are {new_rows.shape}, expected {(len(rows), old.shape[1])}")
    if len(rows) == 0:
        return old.copy()
    lengths = np.diff(old.indptr)
    new_lengths = lengths.copy()
    new_lengths[rows] = np.diff(new_rows.indptr)
    indptr = np.zeros(len(lengths) + 1, old.indptr.dtype if len(old.data) < 2**31 else np.int64)
    np.cumsum(new_lengths, out=indptr[1:])
    data_parts, index_parts = [], []
    start = 0  # first old row not copied yet
    for k, r in enumerate(rows.tolist()):
        lo, hi = old.indptr[start], old.indptr[r]
        data_parts += [old.data[lo:hi], new_rows.data[new_rows.indptr[k]:new_rows.indptr[k + 1]]]
        index_parts += [old.indices[lo:hi],
                        new_rows.indices[new_rows.indptr[k]:new_rows.indptr[k + 1]]]
        start = r + 1
    data_parts.append(old.data[old.indptr[start]:])
    index_parts.append(old.indices[old.indptr[start]:])
    out = sp.csr_matrix((np.concatenate(data_parts), np.concatenate(index_parts), indptr),
                        shape=old.shape)
    out.has_sorted_indices = bool(old.has_sorted_indices and new_rows.has_sorted_indices)
    return out
