"""Explanation paths: the concrete meta-path instances that carry an item's graph score.

A meta-path score decomposes over its concrete paths (see :mod:`recommend.paths.metapaths`),
so each path ``u = x0 .. xk = i`` of meta-path ``m`` carries ``w_m * prod_t S_t[x_(t-1), x_t]``
of the item's score; its ``contribution`` is that share of the total. :func:`iter_instances`
enumerates them lazily: a backward pass marks the nodes of each layer that can still reach the
item, and a depth-first walk from the user follows only those (meet in the middle), so no dead
branch is explored. :func:`explain_paths_many` ranks them with :func:`top_instances_many`,
the same enumeration vectorised for meta-paths of up to 3 hops and for all of one user's
items at once (the user's side and column views of the steps are kept in a small
identity-keyed memo). Every hop is a nonzero of a step matrix compiled from the stored edges
of its relation, so every edge of a path exists, in its stored direction. An
item no meta-path reaches gets, if any, a shortest connection of at most ``max_hops`` hops,
marked ``reason="connection"``: a link, not the score's reason. :func:`scored_paths_many` merges
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
           "explain_paths_many", "fidelity_check", "iter_instances", "scored_paths_many",
           "top_instances", "top_instances_many"]

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
    steps: Sequence[sp.csr_matrix], u: int, i: int, k: int, *, max_middle: int = 8
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
    return top_instances_many(steps, u, np.array([i]), k, max_middle=max_middle)[0]


def top_instances_many(
    steps: Sequence[sp.csr_matrix], u: int, items: np.ndarray, k: int, *, max_middle: int = 8
) -> list[tuple[list[tuple[tuple[int, ...], float]], float]]:
    """:func:`top_instances` of each of ``items`` (meta-paths of up to 3 steps), computed
    in one vectorised pass: each step's entries into the items are gathered together."""
    items = np.asarray(items, np.int64)
    if len(steps) > 3:
        return [top_instances(steps, u, int(i), k) for i in items]
    last = _by_matrix(steps[-1], None, steps[-1].tocsc)  # column i: the last hops into i
    pos = _spans(last.indptr[items], last.indptr[items + 1])
    owner = np.repeat(np.arange(len(items)), np.diff(last.indptr)[items])
    node, hop = last.indices[pos].astype(np.int64), last.data[pos].astype(np.float64)
    if len(steps) == 1:
        values, middle = np.where(node == u, hop, 0.0), np.zeros((len(node), 0), np.int64)
        totals = np.bincount(owner, values, len(items))
    else:
        first = _by_user(steps[0], u, lambda: _dense_row(steps[0], u))
        if len(steps) == 2:
            values, middle = first[node] * hop, node[:, None]
            totals = np.bincount(owner, values, len(items))
        else:
            reach = _by_user(steps[1], (id(steps[0]), u), lambda: first @ steps[1])
            bounds = reach[node] * hop
            totals = np.bincount(owner, bounds, len(items))
            mids = _top_per(owner, bounds, max_middle)
            into = _by_matrix(steps[1], None, steps[1].tocsc)  # column b: the a's into b
            b = node[mids]
            count = np.diff(into.indptr)[b]
            pos = _spans(into.indptr[b], into.indptr[b + 1])
            a = into.indices[pos].astype(np.int64)
            values = first[a] * into.data[pos] * np.repeat(hop[mids], count)
            owner = np.repeat(owner[mids], count)
            middle = np.stack([a, np.repeat(b, count)], axis=1)
    out: list[tuple[list[tuple[tuple[int, ...], float]], float]] = [
        ([], float(t)) for t in totals]
    for j in _top_per(owner, values, k):
        nodes = (u, *map(int, middle[j]), int(items[owner[j]]))
        out[owner[j]][0].append((nodes, float(values[j])))
    return out


def _top_per(owner: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest positive ``values`` of each ``owner``, by owner and
    best first (ties: by position)."""
    pos = np.flatnonzero(values > 0)
    # one float key orders by owner, then value (scaled to at most 1); a stable sort keeps
    # ties in position order
    key = 2.0 * owner[pos] - values[pos] / values[pos].max(initial=1.0)
    pos = pos[np.argsort(key, kind="stable")]
    group = owner[pos]
    return pos[np.arange(len(pos)) - np.searchsorted(group, group) < k]


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


def _stored_edge(a: str, rel: str, b: str, direction: str) -> EdgeTriple:
    """The hop ``a -> b`` as the stored edge: each hop of an instance is a nonzero of a step
    matrix compiled from that relation's stored edges, so the edge exists (the tests and the
    bench audits check every served edge with :meth:`KnowledgeGraph.has_edge`)."""
    return (a, rel, b) if direction == "out" else (b, rel, a)


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
    fallback: bool = True,
) -> list[Path]:
    """The top ``max_paths`` paths (by contribution) carrying ``item_id``'s graph score.

    ``steps`` are the scorer's compiled step matrices (computed here if None). When no
    weighted meta-path reaches the item: a :func:`connection_path` if ``fallback``, else [].
    """
    return explain_paths_many(graph, user_id, [item_id], metapaths, weights,
                              max_paths=max_paths, max_hops=max_hops, normalize=normalize,
                              steps=steps, influencers=influencers, fallback=fallback)[0]


def explain_paths_many(
    graph: KnowledgeGraph,
    user_id: str,
    item_ids: Sequence[str],
    metapaths: Sequence[MetaPath],
    weights: Sequence[float] | np.ndarray,
    *,
    max_paths: int = 3,
    max_hops: int = 3,
    normalize: Normalize = "row",
    steps: Mapping[str, Sequence[sp.csr_matrix]] | None = None,
    influencers: Collection[str] = (),
    fallback: bool = True,
) -> list[list[Path]]:
    """:func:`explain_paths` of each of ``item_ids`` for one user (one pass per meta-path)."""
    u = graph.index(user_id)
    items = np.array([graph.index(i) for i in item_ids], np.int64)
    found: list[list[tuple[float, str, tuple[int, ...]]]] = [[] for _ in item_ids]
    totals = np.zeros(len(item_ids))
    for mp, w in zip(metapaths, weights, strict=True):
        if w <= 0 or len(mp.steps) > max_hops:
            continue
        mats = steps[mp.name] if steps is not None else step_matrices(
            graph, mp, normalize=normalize)
        for j, (best, score) in enumerate(top_instances_many(mats, u, items, max_paths)):
            totals[j] += float(w) * score
            found[j] += [(float(w) * v, mp.name, nodes) for nodes, v in best]
    by_name = {mp.name: mp for mp in metapaths}
    out: list[list[Path]] = []
    for item_id, paths, total in zip(item_ids, found, totals, strict=True):
        if not paths:
            link = connection_path(graph, user_id, item_id, max_hops=max_hops,
                                   influencers=influencers) if fallback else None
            out.append([] if link is None else [link])
            continue
        kept = []
        for share, name, idx in sorted(paths, key=lambda e: -e[0])[:max_paths]:
            mp = by_name[name]
            nodes = tuple(graph.node_id(t, j) for t, j in zip(mp.types, idx, strict=True))
            edges = tuple(
                _stored_edge(a, s.relation, b, s.direction)
                for s, a, b in zip(mp.steps, nodes[:-1], nodes[1:], strict=True)
            )
            text = render_path(graph, nodes, edges, influencers=influencers)
            kept.append(Path(nodes, edges, name, share / total, text))
        out.append(kept)
    return out


def scored_paths_many(
    graph: KnowledgeGraph,
    user_id: str,
    item_ids: Sequence[str],
    scorers: Sequence[tuple[str, GraphPathScorer, Sequence[float], Collection[str]]],
    *,
    max_paths: int = 3,
    finder: LinkFinder | None = None,
    influencers: Collection[str] = (),
) -> list[list[ExplainedPath]]:
    """Per item, the top ``max_paths`` paths carrying its score over several scorers.

    ``scorers``: ``(component, scorer, shares, its influencers)``, ``shares[j]`` the
    component's part of item j's blended score; a path's ``contribution`` is its share of the
    sum over the item's paths kept. None carrying a score: a :func:`connection_path`
    (through ``finder``).
    """
    found: list[list[tuple[float, str, Path]]] = [[] for _ in item_ids]
    for name, sc, shares, kols in scorers:
        wanted = [j for j, share in enumerate(shares) if share > 0]
        paths = explain_paths_many(graph, user_id, [item_ids[j] for j in wanted],
                                   sc.metapaths_, sc.weights_, max_paths=max_paths,
                                   steps=sc.steps_, influencers=kols, fallback=False)
        for j, item_paths in zip(wanted, paths, strict=True):
            found[j] += [(shares[j] * p.contribution, name, p) for p in item_paths]
    out: list[list[ExplainedPath]] = []
    for item_id, paths in zip(item_ids, found, strict=True):
        if paths:
            total = sum(c for c, _, _ in paths)
            paths.sort(key=lambda e: -e[0])
            out.append([ExplainedPath(p.nodes, p.edges, p.text, name, p.metapath,
                                      c / total if total > 0 else 0.0)
                        for c, name, p in paths[:max_paths]])
            continue
        link = connection_path(graph, user_id, item_id, finder=finder,
                               influencers=influencers)
        out.append([] if link is None else [
            ExplainedPath(link.nodes, link.edges, link.text, None, None, 0.0, "connection")])
    return out


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
