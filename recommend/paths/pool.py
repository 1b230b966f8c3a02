"""An item's pool of candidate paths, before :mod:`recommend.paths.select` chooses among them.

:func:`recommend.paths.explain.scored_paths_many` gathers, per item, meta-path instances of
several scorers and the other components' evidence paths. :func:`merged` makes one candidate
of a path two components found; :func:`path_values` gives each distinct meta-path path the
value it carries over every scorer (what a path must reach to be shown), keyed by
:func:`node_keys`' form of its nodes.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.explain import Candidate, Path, Raw

__all__ = ["merged", "node_keys", "path_values"]

EdgeTriple = tuple[str, str, str]
#: A node as a path value's key names it: (node type, index in its type).
NodeKey = tuple[str, int]


def merged(paths: list[Candidate]) -> list[Candidate]:
    """One candidate per distinct path (nodes and edges), largest first: the same path found
    by two components (a graph meta-path's "You rated A; 246 people who rated A also rated
    B" and cf's) carries both shares, under the component carrying the more."""
    best: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], Candidate] = {}
    total: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], float] = {}
    for c in paths:
        key = (c[2].nodes, c[2].edges)
        total[key] = total.get(key, 0.0) + c[0]
        if key not in best or c[0] > best[key][0]:
            best[key] = c
    out = [(total[key], name, p) for key, (_, name, p) in best.items()]
    out.sort(key=lambda e: -e[0])
    return out


def path_values(raw: Sequence[Raw]) -> tuple[list[Hashable], dict[Hashable, float]]:
    """Each of an item's meta-path instances' path (its nodes as :data:`NodeKey` s and, by
    direction, relations) and the value of each distinct path over them all (of every
    scorer)."""
    hops: dict[int, tuple[tuple[str, str], ...]] = {}  # per meta-path object, made once
    keys: list[Hashable] = []
    out: dict[Hashable, float] = {}
    for value, _, inst, mp, types, _, _ in raw:
        steps = hops.get(id(mp))
        if steps is None:
            steps = hops[id(mp)] = tuple((s.relation, s.direction) for s in mp.steps)
        key = (tuple(zip(types, inst[2], strict=True)), steps)
        keys.append(key)
        out[key] = out.get(key, 0.0) + value
    return keys, out


def node_keys(graph: KnowledgeGraph, paths: Iterable[Path], memo: dict[str, NodeKey]
              ) -> set[tuple[NodeKey, ...]]:
    """The nodes of ``paths`` as :func:`path_values` keys name them; ``memo`` keeps each
    node's key across the calls of a request."""
    out = set()
    for p in paths:
        found = []
        for n in p.nodes:
            key = memo.get(n)
            if key is None:
                key = memo[n] = (n.partition(":")[0], graph.index(n))
            found.append(key)
        out.add(tuple(found))
    return out
