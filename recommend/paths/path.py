"""A path of the graph from a user to an item, and a meta-path instance made one.

:class:`Path` is what :mod:`recommend.paths.explain` chooses among and renders;
:func:`built_path` names an instance's nodes, spells its hops as the stored edges and asks
the privacy rules (:func:`recommend.paths.privacy.violations`) whether it may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from recommend.paths.instances import Memo
from recommend.paths.metapaths import MetaPath
from recommend.paths.privacy import (
    AGGREGATES,
    COUNTED,
    PERSONAL_RELATIONS,
    Privacy,
    violations,
)
from recommend.paths.sentences import group_note
from recommend.paths.sequence import SequenceHop

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["Instance", "Kind", "Path", "built_path", "can_violate", "path_kind", "stored_edge",
           "weighted_kinds"]

EdgeTriple = tuple[str, str, str]


class Path(NamedTuple):
    """A path from the user (``nodes[0]``) to the item (``nodes[-1]``).

    ``edges[t]`` is the stored edge ``(src, relation, dst)`` joining ``nodes[t]`` and
    ``nodes[t+1]`` (in either direction); ``contribution`` is the path's share of the item's
    graph score (0 for a connection), ``reason`` says which.
    """

    nodes: tuple[str, ...]
    edges: tuple[EdgeTriple, ...]
    metapath: str | None
    contribution: float
    text: str
    reason: Literal["score", "connection"] = "score"
    note: str = ""  # said after the rendered sentence (a popularity path's count)

    @property
    def hops(self) -> int:
        return len(self.edges)


def stored_edge(a: str, rel: str, b: str, direction: str) -> EdgeTriple:
    """The hop ``a -> b`` as the stored edge: each hop of an instance is a nonzero of a step
    matrix compiled from that relation's stored edges, so the edge exists (the tests and the
    bench audits check every served edge with :meth:`KnowledgeGraph.has_edge`)."""
    return (a, rel, b) if direction == "out" else (b, rel, a)


#: One meta-path instance found for an item (a group of them, with ``group``): its weighted
#: value ``w * v``, the meta-path's name, its node indices and how many instances it stands for.
Instance = tuple[float, str, tuple[int, ...], int]
#: A meta-path, the node types it visits and whether an instance of it can show what the
#: privacy rules forbid (:func:`can_violate`).
Kind = tuple[MetaPath, tuple[str, ...], bool]
_kinds = Memo(256)  # per meta-path object (immutable): its Kind, made once


def can_violate(types: Sequence[str], relations: Sequence[str],
                directions: Sequence[str] | None = None) -> bool:
    """Whether a path from its user (``types[0]``) through nodes of ``types`` over hops of
    ``relations`` can show anything :func:`~recommend.paths.privacy.violations` forbids:
    only a node of another user or a segment, or an aggregate, counted or session hop can
    (any other such path never does, whatever its nodes). With the hops' ``directions``
    ("out": stored from the node before), a user its first hop is a stored ``follows`` edge
    out of the path's user to, joined by no :data:`PERSONAL_RELATIONS` hop, cannot either:
    someone the user follows, named for what they did in public ("people you follow posted
    ..."); no other user may be on it."""
    if any(rel in AGGREGATES or rel in COUNTED or SequenceHop.parse(rel) is not None
           for rel in relations):
        return True
    for t, kind in enumerate(types[1:], 1):
        if kind == "segment" or (kind == "user" and not (
                t == 1 and directions is not None and relations[0] == "follows"
                and directions[0] == "out"
                and not any(rel in PERSONAL_RELATIONS for rel in relations[:2]))):
            return True
    return False


def path_kind(mp: MetaPath) -> Kind:
    """``mp``'s :data:`Kind` (remembered: its types are derived step by step)."""
    return _kinds(mp, None, lambda: (mp, mp.types, can_violate(
        mp.types, mp.relations, tuple(s.direction for s in mp.steps))))


def _hops(mp: MetaPath) -> tuple[tuple[str, bool], ...]:
    """Each step of ``mp`` as (relation, whether it is followed out), made once per meta-path."""
    return _steps(mp, None, lambda: tuple((s.relation, s.direction == "out") for s in mp.steps))


_steps = Memo(256)


def built_path(graph: KnowledgeGraph, user_id: str, inst: Instance, mp: MetaPath,
               types: tuple[str, ...], checked: bool, total: float, privacy: Privacy,
               demographic: frozenset[str]) -> Path | None:
    """Instance ``inst`` of ``mp`` (visiting node ``types``) as a :class:`Path` carrying its
    share of the item's score ``total``, its text left to render; None when it would show
    what ``privacy`` forbids (asked when ``checked``: a meta-path that can, see
    :data:`Kind`)."""
    share, name, idx, size = inst
    # (graph.node_id's ids: each type's raw ids, read once per path)
    nodes = tuple([f"{t}:{graph.raw_ids(t)[j]}" for t, j in zip(types, idx, strict=True)])
    edges = tuple([(a, rel, b) if out else (b, rel, a) for (rel, out), a, b in
                   zip(_hops(mp), nodes[:-1], nodes[1:], strict=True)])  # (stored_edge's)
    if checked and violations(graph, user_id, edges, min_people=privacy.min_people,
                              demographic=demographic):
        return None
    return Path(nodes, edges, name, share / total, "", note=group_note(graph, nodes, edges, size))


def weighted_kinds(metapaths: Sequence[MetaPath], weights: Sequence[float] | np.ndarray
                   ) -> tuple[dict[str, Kind], frozenset[tuple[str, ...]]]:
    """The :data:`Kind` of each weighted meta-path (weight > 0) by name, and the sequences of
    relations their instances' edges can be: made once per pair of ``metapaths`` and
    ``weights`` objects (a scorer's, refitted as new ones)."""
    held = _weighted.peek(metapaths, id(weights))
    if held is not None and held[0] is weights:
        return held[1]
    live = [mp for mp, w in zip(metapaths, weights, strict=True) if w > 0]
    found = ({mp.name: path_kind(mp) for mp in live}, frozenset(mp.relations for mp in live))
    _weighted(metapaths, id(weights), lambda: (weights, found))
    return found


_weighted = Memo(16)
