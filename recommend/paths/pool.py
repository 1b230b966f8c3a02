"""An item's pool of candidate paths, before :mod:`recommend.paths.select` chooses among them.

:func:`recommend.paths.explain.scored_paths_many` gathers, per item, meta-path instances of
several scorers and the other components' evidence paths. :func:`merged` makes one candidate
of a path two components found; :func:`path_values` gives each distinct meta-path path the
value it carries over every scorer (what a path must reach to be shown), keyed by
:func:`node_keys`' form of its nodes; :func:`largest` is :func:`merged`'s first candidate,
found without making every meta-path instance a path.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Iterable, Mapping, Sequence
from itertools import product
from operator import eq
from typing import TYPE_CHECKING

from recommend.paths.instances import Memo

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.explain import Candidate, Path, Raw

__all__ = ["content_floor", "evidence_keys", "largest", "loops", "merged", "node_keys",
           "path_values"]

EdgeTriple = tuple[str, str, str]
#: A path's nodes as a path value's key names them: (their node types, the index of each in
#: its type).
NodeKey = tuple[tuple[str, ...], tuple[int, ...]]
#: Bounds are compared with this much room for rounding: what is skipped is surely below.
_ROOM = 1.0 + 1e-9
_steps = Memo(256)  # per meta-path object (immutable): its steps' (relation, direction)


def merged(paths: list[Candidate]) -> list[Candidate]:
    """One candidate per distinct path (nodes and edges), largest first: the same path found
    by two components (a graph meta-path's "You rated A; 246 people who rated A also rated
    B" and cf's) carries both shares, under the component carrying the more."""
    # per distinct path: [its total (from 0.0, in order), the candidate carrying the most]
    found: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], list] = {}
    for c in paths:
        key = (c[2].nodes, c[2].edges)
        hit = found.get(key)  # (one lookup: a nested tuple's hash is not kept)
        if hit is None:
            found[key] = [0.0 + c[0], c]
        else:
            hit[0] += c[0]
            if c[0] > hit[1][0]:
                hit[1] = c
    out = [(total, c[1], c[2]) for total, c in found.values()]
    out.sort(key=lambda e: -e[0])
    return out


def path_values(raw: Sequence[Raw]) -> tuple[list[Hashable], dict[Hashable, float]]:
    """Each of an item's meta-path instances' path (its nodes as a :data:`NodeKey` and, by
    direction, relations) and the value of each distinct path over them all (of every
    scorer)."""
    hops: dict[int, tuple[tuple[str, str], ...]] = {}  # per meta-path object (of this call)
    keys: list[Hashable] = []
    out: dict[Hashable, float] = {}
    for value, _, inst, mp, types, _, _ in raw:
        steps = hops.get(id(mp))
        if steps is None:
            steps = hops[id(mp)] = _steps(mp, None, lambda mp=mp: tuple(
                (s.relation, s.direction) for s in mp.steps))  # (made once per meta-path)
        key = ((types, inst[2]), steps)
        keys.append(key)
        out[key] = out.get(key, 0.0) + value
    return keys, out


def node_keys(graph: KnowledgeGraph, paths: Iterable[Path], memo: dict[str, tuple[str, int]]
              ) -> set[NodeKey]:
    """The nodes of ``paths`` as :func:`path_values` keys name them; ``memo`` keeps each
    node's (type, index) across the calls of a request."""
    return {_node_key(graph, p, memo) for p in paths}


def _node_key(graph: KnowledgeGraph, p: Path, memo: dict[str, tuple[str, int]]) -> NodeKey:
    """One path's :func:`node_keys` key."""
    found = [memo[n] if n in memo else memo.setdefault(n, (n.partition(":")[0], graph.index(n)))
             for n in p.nodes]
    types, idx = zip(*found, strict=True)
    return types, idx


def evidence_keys(graph: KnowledgeGraph, evidence: Iterable[Candidate],
                  memo: dict[str, tuple[str, int]], relations: Container[tuple[str, ...]]
                  ) -> dict[Hashable, tuple[float, Path]]:
    """Under each :func:`path_values` key that names an evidence path (its nodes and, per
    hop, the relation and direction whose stored edge is the path's edge: a hop from a node
    to itself is the same edge either way, so both), the largest value of the evidence
    candidates of that path and the path; only paths over a sequence of ``relations`` (a
    meta-path's) are named. A meta-path instance with one of these keys has the path's
    nodes and edges (a node's id is its type and index): :func:`merged` adds its value to
    theirs, and keeps it only if it carries at least the largest of them; one with none
    has no evidence path's edges."""
    out: dict[Hashable, tuple[float, Path]] = {}
    for value, _, p in evidence:
        if tuple([e[1] for e in p.edges]) not in relations:
            continue
        steps: list[tuple[tuple[str, str], ...]] = []
        for a, b, (src, rel, dst) in zip(p.nodes[:-1], p.nodes[1:], p.edges, strict=True):
            if src == a and dst == b:
                steps.append(((rel, "out"), (rel, "in")) if a == b else ((rel, "out"),))
            elif src == b and dst == a:
                steps.append(((rel, "in"),))
            else:
                break  # an edge not joining its nodes: no instance is this path
        else:
            at = _node_key(graph, p, memo)
            for way in product(*steps):  # (one way, unless a hop joins a node to itself)
                key = (at, way)
                if key not in out or value > out[key][0]:
                    out[key] = (value, p)
    return out


def loops(nodes: NodeKey) -> bool:
    """Whether a hop of the path may join a node to itself (two neighbours of one index:
    then two meta-path instances of different keys can be one path, the hop's stored edge
    being the same either way)."""
    idx = nodes[1]
    return any(map(eq, idx[:-1], idx[1:]))


def content_floor(values: Mapping[Hashable, float], floor: float
                  ) -> tuple[float, dict[tuple[str, int], float]]:
    """An item's :data:`~recommend.paths.reasons.ContentFloor`: what a content path
    ``You -> x -> ...`` carries must reach ``floor`` (the item's floor, less room for
    rounding) with every meta-path path through the same second node x it may be
    (:func:`path_values`' ``values``: a path through another is another path);
    :func:`~recommend.paths.reasons.evidence_paths` adds the popularity path, the only other
    one it may be (:data:`~recommend.paths.reasons.SHARED`)."""
    through: dict[tuple[str, int], float] = {}
    for ((types, idx), _), value in values.items():  # type: ignore[misc]
        if len(types) > 1:
            x = (types[1], idx[1])
            through[x] = through.get(x, 0.0) + value
    return floor, through


def largest(keys: Sequence[Hashable], values: Mapping[Hashable, float],
            raw_values: Sequence[float], build: Callable[[int], Candidate | None],
            evidence: Sequence[Candidate], nodes_of: Callable[[Path], NodeKey]
            ) -> Candidate | None:
    """``merged([*instances, *evidence])[0]`` (None when empty), the instances being an item's
    meta-path instances (position r: :func:`path_values`' key ``keys[r]``, value
    ``raw_values[r]``) made paths by ``build(r)`` (None: a path privacy forbids; its key's
    other instances are the same path), without making each of them.

    A key carries ``values[key]`` (the sum :func:`merged` makes of its instances, in the same
    order), plus the evidence paths with the same nodes and edges: keys are tried by that
    bound (the evidence through their nodes, ``nodes_of``), largest first, until none can
    reach the largest found; of equal totals the first found wins, as in :func:`merged`."""
    paths: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], list[Candidate]] = {}
    for c in evidence:
        paths.setdefault((c[2].nodes, c[2].edges), []).append(c)
    extra: dict[NodeKey, float] = {}  # what evidence through some nodes may add
    least = -float("inf")  # the largest is at least this
    for found in paths.values():
        total = _summed(0.0, found)[0]
        least = max(least, total)
        nodes = nodes_of(found[0][2])
        extra[nodes] = extra.get(nodes, 0.0) + total
    first: dict[Hashable, int] = {}
    best_of: dict[Hashable, int] = {}  # the instance merged() keeps for the key
    for r, key in enumerate(keys):
        if key not in first:
            first[key] = best_of[key] = r
        elif raw_values[r] > raw_values[best_of[key]]:
            best_of[key] = r
    bound = {key: values[key] + extra.get(key[0], 0.0) for key in first}  # type: ignore[index]
    best: tuple[float, int, Candidate] | None = None
    joined: set[tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] = set()
    for key in sorted(first, key=lambda k: (-bound[k], first[k])):
        if bound[key] * _ROOM < least:
            break
        c = build(best_of[key])
        if c is None:
            continue
        at = (c[2].nodes, c[2].edges)
        total, c = _summed(values[key], paths.get(at, ()), c)
        joined.add(at)
        least = max(least, total)
        if best is None or total > best[0] or (total == best[0] and first[key] < best[1]):
            best = (total, first[key], c)
    for r, (at, found) in enumerate(paths.items()):  # evidence alone, after every instance
        if at not in joined:
            total, c = _summed(0.0, found)
            if best is None or total > best[0] or (total == best[0] and len(keys) + r < best[1]):
                best = (total, len(keys) + r, c)
    return None if best is None else (best[0], best[2][1], best[2][2])


def _summed(start: float, found: Iterable[Candidate], best: Candidate | None = None
            ) -> tuple[float, Candidate]:
    """``start`` plus the values of ``found`` one by one, and the first largest of them
    (after ``best``, if given), as :func:`merged` adds and keeps them."""
    total = start
    for c in found:
        total += c[0]
        if best is None or c[0] > best[0]:
            best = c
    assert best is not None
    return total, best
