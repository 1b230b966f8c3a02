"""Meta-path instances: the concrete u -> i paths of a meta-path and what each carries.

A meta-path score decomposes over its concrete paths (see :mod:`recommend.paths.metapaths`):
each path ``u = x0 .. xk = i`` carries ``prod_t S_t[x_(t-1), x_t]``. :func:`iter_instances`
enumerates them lazily: a backward pass marks the nodes of each layer that can still reach the
item, and a depth-first walk from the user follows only those (meet in the middle), so no dead
branch is explored. :func:`top_instances_many` finds the largest ones vectorised, for
meta-paths of up to 3 hops and all of one user's items at once (the user's side and column
views of the steps are kept in a small identity-keyed memo); :func:`top_groups_many` groups
them by the node before the item (the shared entity: a category, a brand), each group carrying
the sum of its instances; :func:`path_value` is one pair's score.
"""

from __future__ import annotations

import heapq
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommend.paths.listed_walks import listed_reach
from recommend.paths.walks import WalkState, spans, walk_dense, walk_on, walk_start

__all__ = ["instances_as_groups", "iter_instances", "path_value", "reach_at", "top_groups_many",
           "top_instances", "top_instances_many"]


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
    if (len(steps) == 1 and u >= steps[0].shape[0]) or not len(_first_step(steps[0], u)[0]):
        return [([], 0.0) for _ in items]  # the user starts no instance: nothing to gather
    owner, node, hop = _last_hops(steps[-1], items)
    if len(steps) == 1:
        values, middle = np.where(node == u, hop, 0.0), np.zeros((len(node), 0), np.int64)
        totals = np.bincount(owner, values, len(items))
    else:
        first = _first_step(steps[0], u)
        if len(steps) == 2:
            values, middle = values_at(first, node) * hop, node[:, None]
            totals = np.bincount(owner, values, len(items))
        else:
            bounds = values_at(reach_state(steps, u), node) * hop
            totals = np.bincount(owner, bounds, len(items))
            mids = _top_per(owner, bounds, max_middle)
            a, b, count, values = _into_middle(steps[1], first, node[mids], hop[mids])
            owner = owner[mids].repeat(count)
            middle = np.stack([a, b.repeat(count)], axis=1)
    out: list[tuple[list[tuple[tuple[int, ...], float]], float]] = [
        ([], t) for t in totals.tolist()]
    best = _top_per(owner, values, k)
    # as Python numbers at once (the same ints and floats as one by one)
    for o, mid, i, v in zip(owner[best].tolist(), middle[best].tolist(),
                            items[owner[best]].tolist(), values[best].tolist(), strict=True):
        out[o][0].append(((u, *mid, i), v))
    return out


def top_groups_many(
    steps: Sequence[sp.csr_matrix], u: int, items: np.ndarray, k: int, *,
    prefer: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[tuple[list[tuple[tuple[int, ...], float, int]], float]]:
    """Per item: the ``k`` shared entities (the node before the item) carrying the most of
    the meta-path score, each as ``(nodes of its largest instance, the sum over every instance
    through it, how many there are)``, and the score. Exact: the sum through entity b of a
    3-step meta-path is ``(u S1 S2)[b] S3[b, i]``; with fewer steps each instance is its own
    group (the entity before the item is the user's own neighbour). Longer meta-paths are
    not grouped (:func:`top_instances_many`, groups of one). ``prefer`` (asked only when a
    group is found: sorted nodes the first step reaches and a value of each, -inf for one
    not listed, e.g. the user's :func:`~recommend.paths.quality.act_times`) picks a 3-step
    group's instance instead: the largest such value, then the largest instance value (the
    group's sum is the same)."""
    items = np.asarray(items, np.int64)
    if len(steps) != 3:
        return instances_as_groups(steps, u, items, k)
    if prefer is not None:  # (a batch of one: the same pass as several meta-paths')
        from recommend.paths.group_batch import top_groups_batch

        return top_groups_batch([(steps, prefer)], u, items, k)[0]
    first = _first_step(steps[0], u)
    reach = reach_state(steps, u)
    if not len(reach[0]):
        return [([], 0.0) for _ in items]  # the user reaches no entity: nothing to gather
    owner, node, hop = _last_hops(steps[-1], items)
    sums = values_at(reach, node) * hop  # what each (item, entity b) carries
    totals = np.bincount(owner, sums, len(items))
    out: list[tuple[list[tuple[tuple[int, ...], float, int]], float]] = [
        ([], t) for t in totals.tolist()]
    groups = _top_per(owner, sums, k)
    if not len(groups):
        return out
    a, b, count, values = _into_middle(steps[1], first, node[groups], hop[groups])
    group_of = np.arange(len(groups)).repeat(count)
    sizes = np.bincount(group_of, values > 0, len(groups)).astype(np.int64)
    best = _top_per(group_of, values, 1)  # one per group (every group has a positive one)
    g = group_of[best]
    # as Python numbers at once (the same ints and floats as one by one)
    for o, first, mid, i, s, n in zip(owner[groups[g]].tolist(), a[best].tolist(),
                                      b[g].tolist(), items[owner[groups[g]]].tolist(),
                                      sums[groups[g]].tolist(), sizes[g].tolist(), strict=True):
        out[o][0].append(((u, first, mid, i), s, n))
    return out


def instances_as_groups(
    steps: Sequence[sp.csr_matrix], u: int, items: np.ndarray, k: int,
) -> list[tuple[list[tuple[tuple[int, ...], float, int]], float]]:
    """:func:`top_instances_many` in :func:`top_groups_many`'s shape: each instance a group
    of one."""
    return [([(nodes, v, 1) for nodes, v in best], total)
            for best, total in top_instances_many(steps, u, items, k)]


def _last_hops(step: sp.csr_matrix, items: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every last hop into each of ``items``, gathered together: (the position in ``items``
    it leads into, the node it comes from, its value), item by item."""
    last = _by_matrix(step, None, step.tocsc)  # column i: the last hops into i
    lo, hi = last.indptr[items], last.indptr[items + 1]
    pos = spans(lo, hi)
    owner = np.arange(len(items)).repeat(hi - lo)  # (not a diff over every column)
    return owner, last.indices[pos].astype(np.int64), last.data[pos].astype(np.float64)


def _into_middle(step: sp.csr_matrix, first: WalkState, b: np.ndarray, hop: np.ndarray,
                 distinct: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The instances of a 3-step meta-path through the middle nodes ``b`` (each with its last
    hop's value ``hop``): every ``a`` of the first step's row ``first`` that ``step`` leads
    into each b, as (a, b, how many a per b, instance values ``first[a] * step[a, b] * hop``),
    grouped by b in the order given, each b's by a (as ``step``'s columns hold them).

    Read from whichever side is smaller: the columns of the b (a category's every product) or
    the rows of the user's own a (their few products). An a the user's row lacks carries 0,
    so both give the same positive instances in the same order. ``distinct``: the row's
    indices are known to be distinct (:func:`rows_sorted`)."""
    into = _by_matrix(step, None, step.tocsc)  # column b: the a's into b
    lo, hi = into.indptr[b], into.indptr[b + 1]
    idx = first[0]  # sorted (_first_step): its distinct values are the user's a, sorted
    mine = idx if distinct or not len(idx) else idx[np.concatenate(([True], idx[1:] != idx[:-1]))]
    add = np.add.reduce  # (an array's sum() is a Python wrapper of it)
    if int(add(step.indptr[mine + 1] - step.indptr[mine])) < int(add(hi - lo)):
        a, data, count = _from_rows(step, mine, b)
    else:
        count = hi - lo  # (not a diff over every middle node)
        at = spans(lo, hi)
        a, data = into.indices[at].astype(np.int64), into.data[at]
    return a, b, count, values_at(first, a) * data * hop.repeat(count)


def _from_rows(step: sp.csr_matrix, rows: np.ndarray, b: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of ``step`` in sorted distinct ``rows`` and each column of ``b`` (in the
    order given, a column's by row): their rows, values and how many per b."""
    lo, hi = step.indptr[rows], step.indptr[rows + 1]
    pos = spans(lo, hi)
    if len(pos) <= _FEW_ENTRIES:  # (a user's few products, a category each: a dict of them)
        by_column: dict[int, list[int]] = {}
        for k, c in enumerate(step.indices[pos].tolist()):
            by_column.setdefault(c, []).append(k)  # (by row, as a stable sort keeps them)
        taken: list[int] = []
        count = []
        for c in b.tolist():
            found = by_column.get(c, [])
            taken += found
            count.append(len(found))
        at = np.array(taken, np.intp)
        return (rows.repeat(hi - lo)[at].astype(np.int64), step.data[pos][at],
                np.array(count, np.intp))
    order = step.indices[pos].argsort(kind="stable")  # by column, then row
    cols = step.indices[pos][order]
    start, end = cols.searchsorted(b, "left"), cols.searchsorted(b, "right")
    at = order[spans(start, end)]
    return (rows.repeat(hi - lo)[at].astype(np.int64), step.data[pos][at],
            end - start)


#: Up to this many entries, :func:`_from_rows` groups them by column in a dict (its dozen
#: numpy calls cost more than a few dozen entries' Python).
_FEW_ENTRIES = 64


def _top_per(owner: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest positive ``values`` of each ``owner``, by owner and
    best first (ties: by position)."""
    pos = (values > 0).nonzero()[0]
    # one float key orders by owner, then value (scaled to at most 1); a stable sort keeps
    # ties in position order
    positive = values[pos]
    key = 2.0 * owner[pos] - positive / positive.max(initial=1.0)
    pos = pos[key.argsort(kind="stable")]
    group = owner[pos]
    return pos[np.arange(len(pos)) - group.searchsorted(group) < k]


class Memo:
    """The last ``size`` values of an expensive function of (an object, a key), kept by the
    object's identity (the object is held, so its id cannot be reused meanwhile).

    Shared by requests on all threads: storing and evicting hold a lock (the value is made
    outside it; two threads may both make a missing one, and one of them is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: dict[tuple[int, object], tuple[object, object]] = {}
        self._lock = threading.Lock()

    def peek(self, owner: object, key: object) -> Any:
        """The value kept for (``owner``, ``key``), or None: nothing is made."""
        hit = self.slots.get((id(owner), key))
        return hit[1] if hit is not None and hit[0] is owner else None

    def __call__(self, owner: object, key: object, make: Callable[[], Any]) -> Any:
        slot = (id(owner), key)
        hit = self.slots.get(slot)
        if hit is not None and hit[0] is owner:
            return hit[1]
        value = make()
        with self._lock:
            self.slots[slot] = (owner, value)
            while len(self.slots) > self.size:
                self.slots.pop(next(iter(self.slots)))
        return value


_by_matrix = Memo(32)  # column views of step matrices: live as long as the scorer
# one user's side of the enumeration, reused across their items, and (reach_state) from
# scoring to explaining in one request: a request's ~20 entries fit
_by_user = Memo(64)


def values_at(state: WalkState, nodes: np.ndarray) -> np.ndarray:
    """The walked row's values at ``nodes`` (0 where it holds none): what its dense form
    (:func:`~recommend.paths.walks.walk_dense`) holds there, made only when the nodes
    are many for its width or it is narrow (a user's row over 80,000 posts is 640 kB; three
    calls less than a search on 44 categories). The state's indices
    must be sorted; of repeated ones the last value counts, as in the dense form."""
    idx, val, width = state
    if not len(idx):
        return np.zeros(len(nodes))
    if width <= 4 * len(nodes) or width <= 256:  # a narrow row (44 categories): its dense form
        dense = np.zeros(width)
        dense[idx] = val
        return dense[nodes]
    # the last index <= each node (the first, for a node below them all: never equal to it)
    pos = np.maximum(idx.searchsorted(nodes, side="right") - 1, 0)
    return np.where(idx[pos] == nodes, val[pos], 0.0)


def rows_sorted(m: sp.csr_matrix, *, strict: bool = False) -> bool:
    """Whether every row of CSR ``m`` holds its indices in order (``strict``: and none twice),
    found once per matrix (scipy's own flag may be stale: it is set when made, not when an
    index array is written)."""
    key = (id(m), strict)
    hit = _sorted.get(key)
    if hit is not None and hit[0]() is m:
        return hit[1]
    ind = m.indices
    ok = ind[1:] > ind[:-1] if strict else ind[1:] >= ind[:-1]
    starts = m.indptr[1:-1]
    ok[starts[(starts > 0) & (starts < len(ind))] - 1] = True  # (a row's first: no order)
    _sorted[key] = (weakref.ref(m), bool(ok.all()))
    weakref.finalize(m, _sorted.pop, key, None)
    return _sorted[key][1]


#: Per (matrix id, strict): the matrix (weakly: kept while it lives) and its rows_sorted.
_sorted: dict[tuple[int, bool], tuple[weakref.ref, bool]] = {}


def _first_step(first: sp.csr_matrix, u: int) -> WalkState:
    """User ``u``'s row of a meta-path's first step with its indices sorted (stable: of
    repeated ones the last stays last), remembered for the request's other meta-paths."""

    def make() -> WalkState:
        idx, val, width = walk_start(first, u)
        if len(idx) > 1 and not rows_sorted(first) and (idx[1:] < idx[:-1]).any():
            order = idx.argsort(kind="stable")
            idx, val = idx[order], val[order]
        return idx, val, width

    return _by_user(first, u, make)


def reach_state(steps: Sequence[sp.csr_matrix], u: int) -> WalkState:
    """User ``u``'s walk through the first two of ``steps`` (a 3-step meta-path's middle
    layer), remembered: the graph scorer walks on from it to score
    (:meth:`recommend.paths.scorer.GraphPathScorer.score_dense`) and
    :func:`top_instances_many` bounds the middle nodes with it, for the same request."""
    return _by_user(steps[1], (id(steps[0]), u),
                    lambda: listed_reach(steps, u)  # (made at load, where listed)
                    or walk_on(walk_start(steps[0], u), steps[1:2]))


def reach_at(steps: Sequence[sp.csr_matrix], u: int, nodes: np.ndarray) -> np.ndarray:
    """``values_at(reach_state(steps, u), nodes)``, the same floats, without the walk when it
    is neither remembered nor listed: each node's terms ``first[a] * steps[1][a, node]`` read
    from the middle step's column (a CSC copy keeps a row's repeated entries, in order), so
    each node's sum is ``0.0 + t1 + t2 ..`` in the walk's order, by ``a`` as the user's row
    of the first step holds them (when they are sorted and distinct, and the columns hold
    fewer entries than the user's rows of the middle step; else the walk). The items' few
    nodes (the posts about them) are read, where the walk gathers every post of the people
    a user follows."""
    walked = _by_user.peek(steps[1], (id(steps[0]), u)) or listed_reach(steps, u)
    if walked is not None:
        return values_at(walked, nodes)
    idx, val, width = walk_start(steps[0], u)
    middle = steps[1]  # its columns: the a's into a node, a ascending (a CSC copy keeps order)
    into = _by_matrix(middle, None, middle.tocsc)
    lo, hi = into.indptr[nodes], into.indptr[nodes + 1]
    add = np.add.reduce
    if (len(idx) > 1 and not rows_sorted(steps[0], strict=True)
            and (idx[1:] <= idx[:-1]).any()) or int(add(
                middle.indptr[idx + 1] - middle.indptr[idx])) < int(add(hi - lo)):
        return values_at(reach_state(steps, u), nodes)  # (a genre's every product: walked)
    at = spans(lo, hi)
    terms = values_at((idx, val, width), into.indices[at]) * into.data[at]
    return np.bincount(np.arange(len(nodes)).repeat(hi - lo), terms, len(nodes))


def _column(m: sp.csr_matrix, c: int) -> np.ndarray:
    """Column ``c`` of a CSR matrix as a dense vector (through a remembered CSC copy)."""
    csc = _by_matrix(m, None, m.tocsc)
    lo, hi = csc.indptr[c], csc.indptr[c + 1]
    out = np.zeros(m.shape[0])
    np.add.at(out, csc.indices[lo:hi], csc.data[lo:hi])
    return out


def path_value(steps: Sequence[sp.csr_matrix], u: int, i: int) -> float:
    """``(S1 S2 ... Sk)[u, i]`` by pushing a dense vector (cheap for one pair)."""
    v = walk_dense(walk_start(steps[0], u))
    for m in steps[1:-1]:
        v = m.T @ v
    return float(v @ _column(steps[-1], i)) if len(steps) > 1 else float(v[i])
