"""Whether the reader of a people-counting hop may be one of the people it counts.

A count shown to a person must reach ``privacy.min_people`` without them
(:func:`recommend.paths.privacy.violations`): "5 people who bought A also bought B", told to
one of the five, shows what 4 others did. The reader is counted out when they have an event
on both products of a co-interaction or session hop, or on the product and are a member of
the segment of a ``members_*`` hop (an event of any kind: a hop over purchases then asks one
person more of a reader who only viewed, never fewer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg.interactions import POST_TIER, seen_matrix

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["counts_reader"]


def counts_reader(graph: KnowledgeGraph, you: str | None, src: str, rel: str, dst: str) -> bool:
    """Whether ``you`` may be one of the people the hop ``src -rel-> dst`` counts (module
    doc; None, or a node not in the graph: no)."""
    if you is None or not (graph.has_node(you) and graph.has_node(src) and graph.has_node(dst)):
        return False
    seen = seen_matrix(graph, (POST_TIER,) if rel == "co_posted" else ())
    u = graph.index(you)
    if u >= seen.shape[0]:
        return False
    mine = seen.indices[seen.indptr[u]:seen.indptr[u + 1]]
    if graph.index(dst) not in mine:
        return False
    if src.startswith("segment:"):
        return any(e.dst == src for e in graph.neighbors(you, "member_of"))
    return graph.index(src) in mine
