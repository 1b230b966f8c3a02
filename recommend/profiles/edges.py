"""Profiles, segments and rules as edge lists for the knowledge graph.

An :class:`EdgeList` is ``(relation, src_ids, dst_ids, weights)`` in typed node ids, the
form :meth:`kg.graph.KnowledgeGraph.add_edges` takes; :func:`add_to_graph` adds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from cf.rules import Rule
from kg.schema import cluster_segment_id
from recommend.profiles.features import ProfileTable
from recommend.profiles.segments import Segmentation

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph


@dataclass(frozen=True)
class EdgeList:
    """Edges of one relation: parallel lists of typed source and destination ids, weights."""

    relation: str
    src_ids: list[str]
    dst_ids: list[str]
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.src_ids)


def interest_edges(table: ProfileTable, *, min_share: float = 0.1, top: int = 5) -> EdgeList:
    """``interested_in`` edges: per user and per kind (category, brand, concept), the ``top``
    interests with a share of at least ``min_share``, weighted by that share."""
    src: list[str] = []
    dst: list[str] = []
    weights: list[np.ndarray] = []
    for m, ids in (
        (table.categories, table.category_ids),
        (table.brands, table.brand_ids),
        (table.concepts, table.concept_ids),
    ):
        coo = sp.coo_matrix(m)
        keep = coo.data >= min_share
        rows, cols, vals = coo.row[keep], coo.col[keep], coo.data[keep]
        order = np.lexsort((-vals, rows))  # by user, strongest first
        rows, cols, vals = rows[order], cols[order], vals[order]
        starts = np.searchsorted(rows, rows, side="left")
        rank = np.arange(len(rows)) - starts
        sel = rank < top
        src += [table.user_ids[r] for r in rows[sel]]
        dst += [ids[c] for c in cols[sel]]
        weights.append(vals[sel])
    return EdgeList("interested_in", src, dst, np.concatenate([np.zeros(0), *weights]))


def membership_edges(table: ProfileTable, segmentation: Segmentation) -> EdgeList:
    """``member_of`` edges: each segmented user to their segment (weight 1)."""
    rows = np.flatnonzero(segmentation.labels >= 0)
    return EdgeList(
        "member_of", [table.user_ids[r] for r in rows],
        [cluster_segment_id(k) for k in segmentation.labels[rows]], np.ones(len(rows))
    )


def add_to_graph(graph: KnowledgeGraph, edge_lists: Iterable[EdgeList]) -> int:
    """Add every edge list to ``graph``; the number of edges added."""
    added = 0
    for e in edge_lists:
        if len(e):
            graph.add_edges(e.relation, e.src_ids, e.dst_ids, weight=e.weights)
            added += len(e)
    return added


def co_bought_edges(rules: Iterable[Rule]) -> EdgeList:
    """``co_bought`` edges from the single-item rules ``product → product`` (weight: lift).

    Rules with several items on a side stay rules; their pairs are edges only when the
    pair is itself a rule, so no edge claims more than its own support shows.
    """
    pairs = [r for r in rules if len(r.antecedent) == 1 and len(r.consequent) == 1]
    return EdgeList(
        "co_bought",
        [r.antecedent[0] for r in pairs],
        [r.consequent[0] for r in pairs],
        np.array([r.lift for r in pairs]),
    )
