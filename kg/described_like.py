"""Stored content-neighbour edges: ``product -described_like-> product``.

A product's ``described_like`` edges go to the ``k`` products whose catalogue text embeds
nearest to its own (cosine at least a floor), weighted by that cosine. They are made at build
from the product texts alone (:mod:`recommend.content.neighbours` searches the content
index), so no event, rating or post can create or remove one: a validation or test pair held
out of the graph leaves them as they are, and an explanation "you bought A, whose description
is like B's" shows only the user's own product and what the catalogue says.

Not symmetrised: each product keeps its own top ``k`` (a k-nearest-neighbour graph), so the
relation holds at most ``n * k`` edges and a walk out of A ("the products described most like
A") is A's own neighbourhood, as the content search from a profile sees it. Cosine is
symmetric, so the edge reads the same both ways: a pair in each other's top ``k`` is stored
twice (once per direction), and an explanation may follow an edge either way.

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> g.add_edges("made_by", ["product:a", "product:b"], ["brand:x", "brand:x"])
>>> pairs = neighbour_pairs(np.array([[1, 0], [0, 1]]), np.array([[0.9, 1.0], [0.9, 1.0]]),
...                         np.array([0, 1]), floor=0.5)
>>> add_described_like([g], pairs), g.has_edge("product:a", RELATION, "product:b")
(2, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kg.schema import relation

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["RELATION", "Neighbours", "add_described_like", "described_like_edges",
           "neighbour_pairs"]

RELATION = "described_like"


@dataclass(frozen=True)
class Neighbours:
    """Edges ``src[j] -> dst[j]`` (product node indices) of cosine ``similarity[j]``."""

    src: np.ndarray
    dst: np.ndarray
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


def neighbour_pairs(found: np.ndarray, scores: np.ndarray, rows: np.ndarray, *,
                    floor: float) -> Neighbours:
    """The edges of a nearest-neighbour search: row ``q`` of ``found`` (product indices,
    best first, -1 for none) and ``scores`` (cosines) are the neighbours of product
    ``rows[q]``; kept are those that are not the product itself, at cosine ``floor`` or
    more, each once per row."""
    found = np.asarray(found, np.int64)
    scores = np.asarray(scores, np.float64)
    if found.shape != scores.shape or found.ndim != 2 or len(found) != len(rows):
        raise ValueError(f"neighbours of shape {found.shape} and scores {scores.shape} "
                         f"for {len(rows)} products")
    src = np.repeat(np.asarray(rows, np.int64), found.shape[1])
    dst, sim = found.ravel(), scores.ravel()
    keep = (dst >= 0) & (dst != src) & np.isfinite(sim) & (sim >= floor)
    src, dst, sim = src[keep], dst[keep], sim[keep]
    codes = src * (max(int(dst.max(initial=0)), int(src.max(initial=0))) + 1) + dst
    _, first = np.unique(codes, return_index=True)  # a product listed twice in one row
    first.sort()
    return Neighbours(src[first], dst[first], sim[first].astype(np.float32))


def described_like_edges(graph: KnowledgeGraph) -> int:
    """How many ``described_like`` edges ``graph`` holds."""
    return graph.num_edges(RELATION)


def add_described_like(graphs: Sequence[KnowledgeGraph], pairs: Neighbours) -> int:
    """Append ``pairs`` as ``described_like`` edges (no time) to each of ``graphs``, which
    must index their products alike (a graph and the copies it was cut into); how many
    edges each gained. ValueError naming the index when a pair names no product."""
    relation(RELATION)  # declared in kg.schema
    for graph in graphs:
        n = graph.num_nodes("product")
        bad = (pairs.src >= n) | (pairs.dst >= n) | (pairs.src < 0) | (pairs.dst < 0)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{RELATION}: product index {pairs.src[j]} -> {pairs.dst[j]} "
                             f"is not in a graph of {n} products")
        if len(pairs):
            graph._append("product", RELATION, "product", pairs.src, pairs.dst,
                          pairs.similarity.astype(np.float32), np.full(len(pairs), np.nan))
    return len(pairs)
