"""Explanation paths: the concrete meta-path instances that carry an item's graph score.

A meta-path score decomposes over its concrete paths (see :mod:`recommend.paths.metapaths`),
so each path ``u = x0 .. xk = i`` of meta-path ``m`` carries ``w_m * prod_t S_t[x_(t-1), x_t]``
of the item's score; its ``contribution`` is that share of the total. :func:`iter_instances`
enumerates them lazily: a backward pass marks the nodes of each layer that can still reach the
item, and a depth-first walk from the user follows only those (meet in the middle), so no dead
branch is explored. :func:`explain_paths` ranks them with :func:`top_instances`, the same
enumeration vectorised for meta-paths of up to 3 hops; explaining several items for one user,
it reuses the user's side of the enumeration and a column view of the last step (a small
identity-keyed memo), so each further item costs one gather over the user's expansion.
Every edge is checked with :meth:`KnowledgeGraph.has_edge` in its stored direction. An
item no meta-path reaches gets, if any, a shortest connection of at most ``max_hops`` hops,
marked ``reason="connection"``: a link, not the score's reason. :func:`scored_paths` merges
the paths of several scorers (the recommender's graph and social components) by their share
of the blended score, as :class:`recommend.results.ExplainedPath` s.

:func:`fidelity_check` removes a path's edges and re-scores: ``mode="mask"`` zeroes their entries
in the normalised step matrices (degrees frozen: exactly the score the path's edges carry);
``mode="remove"`` drops them from the raw relations and re-normalises, as if the edges had never
been in the graph (KOL weights kept).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import scipy.sparse as sp

from kg.links import LinkFinder
from recommend.paths.metapaths import (
    MetaPath,
    Normalize,
    normalize_step,
    raw_step_matrix,
    step_matrices,
)
from recommend.paths.sentences import render_path
from recommend.results import ExplainedPath

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.scorer import GraphPathScorer

__all__ = ["CONNECTION_NOTE", "Fidelity", "Path", "connection_path", "explain_paths",
           "fidelity_check", "iter_instances", "scored_paths", "top_instances"]

EdgeTriple = tuple[str, str, str]


@dataclass(frozen=True)
class Path:
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

    @property
    def hops(self) -> int:
        return len(self.edges)


@dataclass(frozen=True)
class Fidelity:
    """The item's graph score before and after removing a path's edges."""

    before: float
    after: float
    mode: Literal["mask", "remove"]

    @property
    def dropped(self) -> bool:
        return self.after < self.before * (1 - 1e-9)


def iter_instances(
    steps: Sequence[sp.csr_matrix], u: int, i: int
) -> Iterator[tuple[tuple[int, ...], float]]:
    """Lazily yield ``(node indices per layer, product of step entries)`` of each u -> i path."""
    reach = [np.zeros(0)] * len(steps) + [np.zeros(steps[-1].shape[1])]
    reach[-1][i] = 1.0
    for t in range(len(steps) - 1, -1, -1):
        reach[t] = steps[t] @ reach[t + 1]
    if reach[0][u] <= 0:
        return

    def walk(t: int, x: int, prefix: tuple[int, ...], value: float
             ) -> Iterator[tuple[tuple[int, ...], float]]:
        if t == len(steps):
            yield prefix, value
            return
        m = steps[t]
        lo, hi = m.indptr[x], m.indptr[x + 1]
        ys, vs = m.indices[lo:hi], m.data[lo:hi]
        keep = (reach[t + 1][ys] > 0) & (vs > 0)  # only nodes that still reach the item
        for y, v in zip(ys[keep].tolist(), vs[keep].tolist(), strict=True):
            yield from walk(t + 1, y, (*prefix, y), value * v)

    yield from walk(0, u, (u,), 1.0)


def top_instances(
    steps: Sequence[sp.csr_matrix], u: int, i: int, k: int, *, max_middle: int = 16
) -> tuple[list[tuple[tuple[int, ...], float]], float]:
    """The ``k`` largest u -> i instances and the sum over all of them (the meta-path score).

    Up to 3 steps: ``S1[u, a] * S2[a, b] * S3[b, i]``. The sum is ``(u S1 S2)[b] S3[b, i]``
    summed over b, and each b's term bounds every instance through b, so only the instances
    through the ``max_middle`` middle nodes b of largest bound are enumerated: the top is
    exact whenever its k-th value is at least the next bound (always with fewer middle
    nodes). Longer meta-paths go through :func:`iter_instances`.
    """
    if len(steps) > 3:
        everything = list(iter_instances(steps, u, i))
        best = heapq.nlargest(k, everything, key=lambda e: e[1])
        return best, float(sum(v for _, v in everything))
    last = _column(steps[-1], i)  # value of the final hop into i, per node of the layer before
    if len(steps) == 1:
        v = float(last[u])
        return ([((u, i), v)] if v > 0 else []), v
    first = _by_user(steps[0], u, lambda: _dense_row(steps[0], u))
    if len(steps) == 2:
        values = first * last
        top = _largest(values, k)
        return [((u, int(a), i), float(values[a])) for a in top], float(values.sum())
    reach = _by_user(steps[1], (id(steps[0]), u), lambda: first @ steps[1])
    bounds = reach * last
    mids = _largest(bounds, max_middle)
    csc = _by_matrix(steps[1], None, steps[1].tocsc)  # column b: the a's that lead to b
    pos = _spans(csc.indptr[mids], csc.indptr[mids + 1])
    owner = np.repeat(mids, np.diff(csc.indptr)[mids])
    a = csc.indices[pos].astype(np.int64)
    values = first[a] * csc.data[pos] * last[owner]
    top = _largest(values, k)
    out = [((u, int(a[j]), int(owner[j]), i), float(values[j])) for j in top]
    return out, float(bounds.sum())


def _largest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest positive ``values``, best first (ties: by position)."""
    pos = np.flatnonzero(values > 0)
    if len(pos) > k:
        pos = pos[np.argpartition(-values[pos], k - 1)[:k]]
    return pos[np.lexsort((pos, -values[pos]))]


def _dense_row(m: sp.csr_matrix, r: int) -> np.ndarray:
    out = np.zeros(m.shape[1])
    lo, hi = m.indptr[r], m.indptr[r + 1]
    np.add.at(out, m.indices[lo:hi], m.data[lo:hi])
    return out


def _spans(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The concatenated ranges ``lo[j]:hi[j]``."""
    lengths = hi - lo
    return np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths - lo, lengths)


class _Memo:
    """The last ``size`` values of an expensive function of (an object, a key), kept by the
    object's identity (the object is held, so its id cannot be reused meanwhile)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: dict[tuple[int, object], tuple[object, object]] = {}

    def __call__(self, owner: object, key: object, make: Callable[[], Any]) -> Any:
        slot = (id(owner), key)
        hit = self.slots.get(slot)
        if hit is not None and hit[0] is owner:
            return hit[1]
        value = make()
        self.slots[slot] = (owner, value)
        while len(self.slots) > self.size:
            self.slots.pop(next(iter(self.slots)))
        return value


_by_matrix = _Memo(32)  # column views of step matrices: live as long as the scorer
_by_user = _Memo(16)  # one user's side of the enumeration: reused across their items


def _row(m: sp.csr_matrix, r: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = m.indptr[r], m.indptr[r + 1]
    return m.indices[lo:hi].astype(np.int64), m.data[lo:hi]


def _column(m: sp.csr_matrix, c: int) -> np.ndarray:
    """Column ``c`` of a CSR matrix as a dense vector (through a remembered CSC copy)."""
    csc = _by_matrix(m, None, m.tocsc)
    lo, hi = csc.indptr[c], csc.indptr[c + 1]
    out = np.zeros(m.shape[0])
    np.add.at(out, csc.indices[lo:hi], csc.data[lo:hi])
    return out


def path_value(steps: Sequence[sp.csr_matrix], u: int, i: int) -> float:
    """``(S1 S2 ... Sk)[u, i]`` by pushing a dense vector (cheap for one pair)."""
    v = np.zeros(steps[0].shape[1])
    a, va = _row(steps[0], u)
    np.add.at(v, a, va)
    for m in steps[1:-1]:
        v = m.T @ v
    return float(v @ _column(steps[-1], i)) if len(steps) > 1 else float(v[i])


def _stored_edge(graph: KnowledgeGraph, a: str, rel: str, b: str, direction: str
                 ) -> EdgeTriple:
    edge = (a, rel, b) if direction == "out" else (b, rel, a)
    if not graph.has_edge(*edge):
        raise RuntimeError(f"explanation edge {edge} is not in the graph (a scoring bug)")
    return edge


def explain_paths(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    metapaths: Sequence[MetaPath],
    weights: Sequence[float] | np.ndarray,
    *,
    max_paths: int = 3,
    max_hops: int = 3,
    normalize: Normalize = "row",
    steps: Mapping[str, Sequence[sp.csr_matrix]] | None = None,
    influencers: Collection[str] = (),
) -> list[Path]:
    """The top ``max_paths`` paths (by contribution) carrying ``item_id``'s graph score.

    ``steps`` are the scorer's compiled step matrices (computed here if None). Falls back to
    :func:`connection_path` when no weighted meta-path reaches the item.
    """
    u, i = graph.index(user_id), graph.index(item_id)
    found: list[tuple[float, str, tuple[int, ...]]] = []
    total = 0.0
    for mp, w in zip(metapaths, weights, strict=True):
        if w <= 0 or len(mp.steps) > max_hops:
            continue
        mats = steps[mp.name] if steps is not None else step_matrices(
            graph, mp, normalize=normalize)
        best, score = top_instances(mats, u, i, max_paths)
        total += float(w) * score
        found += [(float(w) * v, mp.name, nodes) for nodes, v in best]
    found = sorted(found, key=lambda e: -e[0])[:max_paths]
    if not found:
        fallback = connection_path(graph, user_id, item_id, max_hops=max_hops,
                                   influencers=influencers)
        return [] if fallback is None else [fallback]
    by_name = {mp.name: mp for mp in metapaths}
    out = []
    for share, name, idx in found:
        mp = by_name[name]
        nodes = tuple(graph.node_id(t, j) for t, j in zip(mp.types, idx, strict=True))
        edges = tuple(
            _stored_edge(graph, a, s.relation, b, s.direction)
            for s, a, b in zip(mp.steps, nodes[:-1], nodes[1:], strict=True)
        )
        text = render_path(graph, nodes, edges, influencers=influencers)
        out.append(Path(nodes, edges, name, share / total, text))
    return out


def scored_paths(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    scorers: Sequence[tuple[str, GraphPathScorer, float, Collection[str]]],
    *,
    max_paths: int = 3,
    finder: LinkFinder | None = None,
    influencers: Collection[str] = (),
) -> list[ExplainedPath]:
    """The top ``max_paths`` paths carrying ``item_id``'s score over several scorers.

    ``scorers``: ``(component, scorer, share, its influencers)``, ``share`` the component's
    part of the item's blended score; a path's ``contribution`` is its share of the sum over
    the paths kept. None carrying a score: a :func:`connection_path` (through ``finder``).
    """
    found: list[ExplainedPath] = []
    for name, sc, share, kols in scorers:
        if share <= 0:
            continue
        for p in explain_paths(graph, user_id, item_id, sc.metapaths_, sc.weights_,
                               max_paths=max_paths, steps=sc.steps_, influencers=kols):
            if p.reason == "score":
                found.append(ExplainedPath(p.nodes, p.edges, p.text, name, p.metapath,
                                           share * p.contribution))
    total = sum(p.contribution for p in found)
    found.sort(key=lambda p: -p.contribution)
    if found:
        return [ExplainedPath(p.nodes, p.edges, p.text, p.component, p.metapath,
                              p.contribution / total if total > 0 else 0.0)
                for p in found[:max_paths]]
    link = connection_path(graph, user_id, item_id, finder=finder, influencers=influencers)
    if link is None:
        return []
    return [ExplainedPath(link.nodes, link.edges, link.text, None, None, 0.0, "connection")]


CONNECTION_NOTE = " (a connection in the graph, not the reason for the score)"


def connection_path(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    *,
    max_hops: int = 3,
    influencers: Collection[str] = (),
    max_expand: int = 500,
    finder: LinkFinder | None = None,
) -> Path | None:
    """A shortest path of at most ``max_hops`` (<= 3) hops through existing edges, or None.

    The search is :class:`kg.links.LinkFinder`'s (user side expanded at most ``max_expand``
    nodes); pass ``finder`` to reuse one user's neighbourhood across items. The path is a
    connection, not the reason for the score, and says so.
    """
    finder = finder or LinkFinder(graph, user_id, max_hops=max_hops, max_expand=max_expand)
    link = finder.link(item_id)
    if link is None:
        return None
    text = render_path(graph, link.nodes, link.edges, influencers=influencers)
    return Path(link.nodes, link.edges, None, 0.0, text + CONNECTION_NOTE, reason="connection")


def fidelity_check(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    path: Path,
    scorer: GraphPathScorer,
    *,
    mode: Literal["mask", "remove"] = "mask",
) -> Fidelity:
    """The item's graph score before and after taking ``path``'s edges out (module doc)."""
    removed: dict[tuple[str, str, str], set[tuple[int, int]]] = {}
    for src, rel, dst in path.edges:
        key = (src.partition(":")[0], rel, dst.partition(":")[0])
        removed.setdefault(key, set()).add((graph.index(src), graph.index(dst)))
    u, i = graph.index(user_id), graph.index(item_id)
    kol = None if scorer.kol_ is None else scorer.kol_.weights
    before = after = 0.0
    for mp, w in zip(scorer.metapaths_, scorer.weights_, strict=True):
        if w <= 0:
            continue
        mats = list(scorer.steps_[mp.name])
        value = path_value(mats, u, i)
        types = mp.types
        changed = False
        for t, step in enumerate(mp.steps):
            a, b = types[t], types[t + 1]
            if step.direction == "out":
                cells = list(removed.get((a, step.relation, b), ()))
            else:
                cells = [(y, x) for x, y in removed.get((b, step.relation, a), ())]
            if not cells:
                continue
            base = mats[t] if mode == "mask" else raw_step_matrix(graph, step, a, kol=kol)
            mats[t] = _zero(base, cells)
            if mode == "remove":
                mats[t] = normalize_step(mats[t], scorer.normalize)
            changed = True
        before += float(w * value)
        after += float(w * (path_value(mats, u, i) if changed else value))
    return Fidelity(before, after, mode)


def _zero(m: sp.csr_matrix, cells: Sequence[tuple[int, int]]) -> sp.csr_matrix:
    """A copy of ``m`` with the given cells set to 0 (removed)."""
    out = m.copy()
    for r, c in cells:
        lo, hi = out.indptr[r], out.indptr[r + 1]
        out.data[lo + np.flatnonzero(out.indices[lo:hi] == c)] = 0.0
    out.eliminate_zeros()
    return out
