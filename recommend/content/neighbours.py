"""Each product's nearest products in catalogue text, stored as ``described_like`` edges.

The build's content index (:class:`recommend.content.ContentIndex`: exact below its size
threshold, calibrated IVF above) is searched with its own vectors, ``k + 1`` deep (a product
finds itself first), in batches; the neighbours at cosine ``floor`` or more become
``product -described_like-> product`` edges (:mod:`kg.described_like` says why they are not
symmetrised and why they cannot leak a held-out pair: the index holds product texts only).
A content-led recommendation then has a stored path, ``You -bought-> A -described_like->
B``, that the explanation checks accept, and the ``...>described_like`` meta-paths
(:mod:`recommend.paths.metapaths`) can walk it.

>>> import numpy as np
>>> from kg.graph import KnowledgeGraph
>>> from recommend.content.index import ContentIndex
>>> g = KnowledgeGraph()
>>> g.add_edges("made_by", ["product:a", "product:b", "product:c"], ["brand:x"] * 3)
>>> idx = ContentIndex.build(["product:a", "product:b", "product:c"],
...                          np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
>>> pairs = content_neighbours(idx, g, k=1, floor=0.5)
>>> [(g.node_id("product", s), g.node_id("product", d)) for s, d in zip(pairs.src, pairs.dst)]
[('product:a', 'product:b'), ('product:b', 'product:a')]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.described_like import (
    Neighbours,
    add_described_like,
    described_like_edges,
    neighbour_pairs,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.content.index import ContentIndex
    from recommend.hybrid.config_sections import ContentConfig
    from recommend.hybrid.content_component import ContentComponent

__all__ = ["BATCH", "content_neighbours", "link_described_like"]

#: Products searched at once: a batch's scores are (BATCH x index size) float32 inside FAISS.
BATCH = 2048


def content_neighbours(index: ContentIndex, graph: KnowledgeGraph, *, k: int,
                       floor: float) -> Neighbours:
    """Each indexed product's ``k`` nearest others in ``index`` at cosine ``floor`` or more,
    as product node indices of ``graph`` (module doc). ValueError when an indexed id is not
    a product of ``graph``."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    n = len(index)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return Neighbours(empty, empty, np.zeros(0, np.float32))
    missing = [i for i in index.ids if not graph.has_node(i)]
    if missing:
        raise ValueError(f"{len(missing)} indexed products are not in the graph, "
                         f"e.g. {missing[:3]}")
    node = np.array([graph.index(i) for i in index.ids], np.int64)  # index row -> product
    found, scores = [], []
    for a in range(0, n, BATCH):
        rows = np.arange(a, min(a + BATCH, n))
        result = index.search(index.vectors_at(rows), min(k + 1, n))
        hit = result.indices
        found.append(np.where(hit >= 0, node[np.maximum(hit, 0)], -1))
        scores.append(result.scores)
    pairs = neighbour_pairs(np.vstack(found), np.vstack(scores), node, floor=floor)
    return _top(pairs, k)


def _top(pairs: Neighbours, k: int) -> Neighbours:
    """At most ``k`` edges per source (the search gave ``k + 1`` in case a product did not
    find itself first: an approximate index, or a twin text of the same cosine), the
    closest first, as found."""
    src = pairs.src
    start = np.r_[0, np.flatnonzero(src[1:] != src[:-1]) + 1] if len(src) else src
    rank = np.arange(len(src)) - np.repeat(start, np.diff(np.r_[start, len(src)]))
    keep = rank < k
    return Neighbours(src[keep], pairs.dst[keep], pairs.similarity[keep])


def link_described_like(content: ContentComponent | None, graphs: Sequence[KnowledgeGraph],
                        settings: ContentConfig) -> dict[str, Any]:
    """Store every product's content neighbours (:func:`content_neighbours` of ``content``'s
    index over ``graphs[0]``, which the others index alike: its validation copies), at
    ``settings.neighbours`` per product and cosine ``settings.neighbour_floor`` or more, in
    each of ``graphs``; what was done, for the build's record. Nothing is added when
    ``neighbours`` is 0, there is no content index, or the first graph holds
    ``described_like`` edges already (a graph read from a built artifact, or given them in
    ``relations.jsonl``: those are kept)."""
    k, floor = settings.neighbours, settings.neighbour_floor
    if content is None or k == 0 or not graphs:
        return {"edges": 0, "note": "off" if k == 0 else "no content index"}
    present = described_like_edges(graphs[0])
    if present:
        return {"edges": present, "note": "in the graph already: kept"}
    began, cpu = time.perf_counter(), time.process_time()
    index = content.index
    pairs = content_neighbours(index, graphs[0], k=k, floor=floor)
    add_described_like(graphs, pairs)
    return {"edges": len(pairs), "k": k, "floor": floor, "products": len(index),
            "with_neighbours": len(np.unique(pairs.src)),
            "search": index.params.get("kind", "flat"),
            "seconds": round(time.perf_counter() - began, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3)}
