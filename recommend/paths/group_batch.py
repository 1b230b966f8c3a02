"""Several 3-step meta-paths' groups for one user's items, found in one pass.

:func:`~recommend.paths.instances.top_groups_many` with ``prefer`` gathers, per meta-path, the
last hops into the items, the entities carrying the most, the instances through them and
the one each group shows: a few dozen numpy calls on arrays of a few dozen entries, so a
request explaining through several meta-paths pays mostly their count.
:func:`top_groups_batch` gives each meta-path's answer of that function, reading what is
each meta-path's own (its first step, its walk, its middle step) for each, and choosing the
groups and their instances for all of them at once. Meta-paths whose last steps are equal
(another object of the same entries: the scorer compiles each meta-path's own) read the
last hops into the items once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from recommend.paths.instances import (
    Memo,
    _first_step,
    _into_middle,
    _last_hops,
    reach_at,
    rows_sorted,
)
from recommend.paths.quality import times_at

__all__ = ["LastHops", "as_items", "same_matrix", "top_groups_batch", "top_groups_each",
           "top_per_each"]

#: Per item: its groups ``(nodes, sum, size)`` and the meta-path's score of it.
Groups = list[tuple[list[tuple[tuple[int, ...], float, int]], float]]
#: Sorted nodes a meta-path's first step reaches and a value of each (asked when it has a group).
Prefer = Callable[[], tuple[np.ndarray, np.ndarray]]
_equal = Memo(64)  # whether two step matrices hold the same entries: asked once per pair


def same_matrix(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    """Whether CSR matrices ``a`` and ``b`` hold the same entries in the same order (same
    shape, dtype and arrays): compared once per pair while both live."""
    if a is b:
        return True
    held, equal = _equal(a, id(b), lambda: (b, _equal_entries(a, b)))
    return equal if held is b else _equal_entries(a, b)  # (b's id is another's now)


def _equal_entries(a: sp.csr_matrix, b: sp.csr_matrix) -> bool:
    return (a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data))


def top_per_each(part: np.ndarray, owner: np.ndarray, values: np.ndarray, k: int,
                 n: int) -> np.ndarray:
    """Per part (``part``: sorted, 0 .. the number of parts) the positions
    :func:`~recommend.paths.instances._top_per` gives its ``owner`` s (< ``n``) and
    ``values`` alone, in part order: the same order key per part (its largest value), one
    stable sort by part, then key."""
    pos = (values > 0).nonzero()[0]
    positive, at = values[pos], part[pos]
    most = np.ones(int(part[-1]) + 1 if len(part) else 0)
    np.maximum.at(most, at, positive)  # each part's positive.max(initial=1.0)
    key = 2.0 * owner[pos] - positive / most[at]
    pos = pos[np.lexsort((key, at))]
    group = part[pos] * n + owner[pos]
    return pos[np.arange(len(pos)) - group.searchsorted(group) < k]


def _first_latest(count: np.ndarray, when: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per group of ``count`` consecutive positions (in order; a group of none has none): the
    position of its latest ``when``, of those its largest value, of those the first: what a
    stable sort by group, then latest, then largest puts first in each group (found with a
    few passes over the groups, not a sort)."""
    some = count > 0
    starts = (count.cumsum() - count)[some]
    if not len(starts):
        return np.zeros(0, np.int64)
    group = np.arange(len(starts)).repeat(count[some])
    latest = when == np.maximum.reduceat(when, starts)[group]
    top = latest & (values == np.maximum.reduceat(np.where(latest, values, -np.inf),
                                                  starts)[group])
    found = top.nonzero()[0]
    return found[group[found].searchsorted(np.arange(len(starts)))]


def top_groups_batch(
    batch: Sequence[tuple[Sequence[sp.csr_matrix], Callable[[], tuple[np.ndarray, np.ndarray]]]],
    u: int, items: np.ndarray, k: int,
) -> list[Groups]:
    """Per ``(steps, prefer)`` of ``batch`` (3-step meta-paths), what
    ``top_groups_many(steps, u, items, k, prefer=prefer)`` gives (module doc); ``prefer`` is
    asked only when the meta-path has a group."""
    return top_groups_each([(steps, prefer, items) for steps, prefer in batch], u, k)


class LastHops:
    """A request's :func:`~recommend.paths.instances._last_hops`, each made once per equal
    last step and items (``follows>posted`` and ``wrote_post>product`` both end in a post's
    products)."""

    def __init__(self) -> None:
        self.found: list[tuple[sp.csr_matrix, np.ndarray,
                               tuple[np.ndarray, np.ndarray, np.ndarray]]] = []

    def __call__(self, step: sp.csr_matrix, items: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``_last_hops(step, items)`` (``items``: int64)."""
        # (the matrix first, by its shape and size: ML-100K's many last steps differ there)
        hit = next((h for s, into, h in self.found
                    if (s is step or (s.shape == step.shape and s.nnz == step.nnz
                                      and same_matrix(s, step)))
                    and (into is items or np.array_equal(into, items))), None)
        if hit is None:
            hit = _last_hops(step, items)
            self.found.append((step, items, hit))
        return hit


def as_items(items: np.ndarray, asked: dict[int, tuple[np.ndarray, list[int]]]
             ) -> tuple[np.ndarray, list[int]]:
    """``items`` as int64 and as a list, made once per object asked (a scorer's meta-paths
    share its items): ``asked`` keeps them for a call."""
    if id(items) not in asked:
        as_array = np.asarray(items, np.int64)
        asked[id(items)] = (as_array, as_array.tolist())
    return asked[id(items)]


def top_groups_each(batch: Sequence[tuple[Sequence[sp.csr_matrix], Prefer, np.ndarray]],
                    u: int, k: int, lasts: LastHops | None = None) -> list[Groups]:
    """:func:`top_groups_batch` with each meta-path's own ``items``: per ``(steps, prefer,
    items)``, ``top_groups_many(steps, u, items, k, prefer=prefer)`` (several scorers'
    meta-paths, each explaining its own items, in one pass). A meta-path's groups are
    chosen among its own items' alone, as when asked by itself. ``lasts``: the request's
    last hops, shared with other batches."""
    out: list[Groups] = []
    # per meta-path asked: (its place, (the user's first step row, whether its indices are
    # distinct), its middle step, prefer, its items)
    live: list[tuple[int, tuple[tuple[np.ndarray, np.ndarray, int], bool], sp.csr_matrix,
                     Prefer, list[int]]] = []
    lasts = LastHops() if lasts is None else lasts
    owners, nodes, hops, sums = [], [], [], []
    asked: dict[int, tuple[np.ndarray, list[int]]] = {}
    for m, (steps, prefer, items) in enumerate(batch):
        items, listed = as_items(items, asked)
        first = _first_step(steps[0], u)
        if not len(first[0]):
            out.append([([], 0.0) for _ in listed])
            continue  # the user starts no instance: nothing to gather
        out.append([])  # (its totals, below)
        last = lasts(steps[-1], items)
        live.append((m, (first, rows_sorted(steps[0], strict=True)), steps[1], prefer, listed))
        owners.append(last[0])
        nodes.append(last[1])
        hops.append(last[2])
        # what each (item, entity) carries (a user reaching none: all 0, so no group)
        sums.append(reach_at(steps, u, last[1]) * last[2])
    if not live:
        return out
    n = max(len(e[4]) for e in live)  # (part * n + owner: one slot per meta-path's item)
    part = np.arange(len(live)).repeat([len(o) for o in owners])
    owner, node, hop, value = (np.concatenate(x) for x in (owners, nodes, hops, sums))
    totals = np.bincount(part * n + owner, value, len(live) * n).tolist()
    for t, (m, *_, mine) in enumerate(live):
        out[m] = [([], s) for s in totals[t * n:t * n + len(mine)]]
    groups = top_per_each(part, owner, value, k, n)
    ends = part[groups].searchsorted(np.arange(len(live) + 1))
    found = []  # per live meta-path with groups: its groups' instances
    for t, (_, first, middle, prefer, _) in enumerate(live):
        mine = groups[ends[t]:ends[t + 1]]
        if len(mine):
            a, b, count, values = _into_middle(middle, first[0], node[mine], hop[mine],
                                               first[1])
            found.append((a, b, count, values,
                          np.where(values > 0, times_at(prefer(), a), -np.inf)))
    if not found:
        return out
    a, b, count, values, when = (np.concatenate(x) for x in zip(*found, strict=True))
    group_of = np.arange(len(groups)).repeat(count)
    sizes = np.bincount(group_of, values > 0, len(groups)).astype(np.int64)
    best = _first_latest(count, when, values)
    g = group_of[best]
    at = groups[g]
    rows = [out[e[0]] for e in live]
    listed_of = [e[4] for e in live]
    # as Python numbers at once (the same ints and floats as one by one)
    for t, o, one, mid, s, size in zip(part[at].tolist(), owner[at].tolist(),
                                       a[best].tolist(), b[g].tolist(), value[at].tolist(),
                                       sizes[g].tolist(), strict=True):
        rows[t][o][0].append(((u, one, mid, listed_of[t][o]), s, size))
    return out
