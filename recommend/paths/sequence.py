"""The session component's own evidence hop: people who took A and then B soon after.

The ``session`` component (:mod:`recommend.hybrid.session`) scores ``h @ C`` where ``C[A, B]``
counts the people whose (latest) events put B at most ``max_lag`` events and ``window``
seconds after A (:func:`cf.session.transition_matrix`). "People who rated A also rated B" is
not what it counted: that is the cf component's co-occurrence, order and time ignored. The
hop ``A -next_within_<window>s_lag<max_lag>-> B`` (:class:`SequenceHop`) is the session's
own: its relation names the window and lag it was counted under, so the graph alone answers
how many people stand behind it (:func:`sequence_people`, the same rule over the graph's
stored, timed user -> product events: each pair's latest time, ordered per user by time,
then product index). The table and its counts are kept until nodes are added, not renewed
on every event: the session model's own counts are fixed when it is fitted, so an event
written since changes neither what it scores nor what its paths may say, and renewing a
100k-event table on each write halved a serving process's throughput (bench/serve_load.py).
Events are appended later in time, so the graph's count only grows past the kept one: a
path never claims more people than the graph holds. Like the aggregates of
:mod:`recommend.paths.privacy` it is never stored and never names anyone: shown only over
at least ``min_people`` people, and the sentence says "12 people who rated A rated B within
the next hour".

>>> hop = SequenceHop(3600.0, 50)
>>> hop.relation
'next_within_3600s_lag50'
>>> SequenceHop.parse(hop.relation) == hop, SequenceHop.parse("co_rated")
(True, None)
>>> window_words(3600.0), window_words(86400.0), window_words(3 * 86400.0), window_words(90)
('hour', 'day', '3 days', '90 seconds')
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.paths.people_counts import MAX_KEPT, keep_fresh
from recommend.paths.walks import spans

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["SEQUENCE_KIND", "SequenceHop", "count_pairs", "keep_from_table", "pair_table",
           "sequence_people",
           "sequence_verb", "window_words"]

#: The type (``metapath``) of a session path: ``"session>next"``.
SEQUENCE_KIND = "next"
_NAME = re.compile(r"next_within_([0-9.eE+-]+)s_lag(\d+)")
#: The verb of a graph whose user -> product events are of one kind ("rated A ... rated B").
_VERBS = {"rated": "rated", "purchased": "bought", "viewed": "viewed", "clicked": "clicked on",
          "liked": "liked", "carted": "put in the cart"}
_ANY = "showed interest in"
_UNITS = ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second"))
#: :func:`pair_table` is made only up to this many (user, pair) entries (~16 bytes each
#: while it is made; the table keeps each distinct pair in 8 bytes).
TABLE_PAIRS = 4_000_000
_DENSE_KEYS = 1 << 24  # (a dense count of every pair: 128 MB while it is made, at most)


@dataclass(frozen=True)
class SequenceHop:
    """The session's transition rule: B within ``window`` seconds and ``max_lag`` events
    after A."""

    window: float
    max_lag: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.window) and self.window >= 0) or self.max_lag < 1:
            raise ValueError(f"a sequence hop needs window >= 0 and max_lag >= 1, got "
                             f"{self.window!r}, {self.max_lag!r}")

    @functools.cached_property  # (asked for each count looked up: spelt once per hop)
    def relation(self) -> str:
        """The hop's relation name, spelling its rule (module doc)."""
        window = int(self.window) if float(self.window).is_integer() else float(self.window)
        return f"next_within_{window!r}s_lag{self.max_lag}"  # exact: it parses back

    @staticmethod
    def parse(relation: str) -> SequenceHop | None:
        """The hop a relation name spells, or None for any other relation."""
        return _parse(relation)


@functools.lru_cache(maxsize=256)  # a few relation names, asked per path shown
def _parse(relation: str) -> SequenceHop | None:
    found = _NAME.fullmatch(relation)
    if found is None:
        return None
    try:
        return SequenceHop(float(found[1]), int(found[2]))
    except ValueError:  # "next_within_1e+s...": not a number
        return None


def _events(graph: KnowledgeGraph) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
    """The graph's timed (user, product) pairs in the session's order: ``(which, times,
    positions)``, ``which[u, p] - 1`` the pair's event number, ``times`` its latest time,
    ``positions`` its place in the user's sequence (kept until nodes are added: module
    docstring)."""
    from kg.interactions import NO_TIME, PRODUCT_RELATIONS, latest_times

    def compute() -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
        latest = latest_times(graph, PRODUCT_RELATIONS)
        timed = latest.data > NO_TIME
        u, p = latest.row[timed].astype(np.int64), latest.col[timed].astype(np.int64)
        t = latest.data[timed].astype(np.float64)
        order = np.lexsort((p, t, u))  # cf.session.transition_matrix's order
        u, p, t = u[order], p[order], t[order]
        starts = np.r_[0, np.flatnonzero(u[1:] != u[:-1]) + 1] if len(u) else np.zeros(0, int)
        first = np.repeat(starts, np.diff(np.r_[starts, len(u)]))
        positions = np.arange(len(u)) - first
        which = sp.csc_matrix((np.arange(1, len(u) + 1, dtype=np.float64), (u, p)),
                              shape=latest.shape)
        which.sort_indices()
        return which, t, positions

    return graph.cached_for(("sequence events",), (), compute)


#: Every pair's count (:func:`pair_table`): the sorted keys ``a * width + b`` of the pairs
#: with at least one person and their counts, or (a dense table) None and every pair's
#: count by key; and the width (products when it was made).
PairTable = tuple[np.ndarray | None, np.ndarray, int]


def pair_table(graph: KnowledgeGraph, hop: SequenceHop) -> PairTable | None:
    """Every pair's :func:`sequence_people` at once, made from the graph's events in one pass
    per lag (as the session counts its transitions) and kept as long as the events it is
    made of (until nodes are added: module docstring); None when it would hold more than
    :data:`TABLE_PAIRS` (user, pair) entries (then each pair is counted when asked). The
    same rule as :func:`count_pairs`: of each user's events in the session's order, ``b`` at
    ``1..max_lag`` places after ``a``, within the window."""

    def compute() -> PairTable | None:
        which, times, _ = _events(graph)
        n = len(times)
        user, product = np.zeros(n, np.int64), np.zeros(n, np.int64)
        number = which.data.astype(np.int64) - 1  # each stored pair's event number
        user[number] = which.indices
        product[number] = np.repeat(np.arange(which.shape[1]), np.diff(which.indptr))
        src, dst, held = [], [], 0
        for lag in range(1, min(hop.max_lag, max(n - 1, 0)) + 1):
            # events are in time order per user: once no pair at a lag is within the window,
            # none further apart is (a user holds each product once, so a and b differ)
            near = np.flatnonzero((user[lag:] == user[:-lag])
                                  & (times[lag:] - times[:-lag] <= hop.window))
            if not len(near):
                break
            held += len(near)
            if held > TABLE_PAIRS:
                return None
            src.append(product[near])
            dst.append(product[near + lag])
        width = which.shape[1]
        keys = (np.concatenate(src) * width + np.concatenate(dst) if src
                else np.zeros(0, np.int64))
        if width * width <= _DENSE_KEYS:  # a narrow catalogue: counted in one dense pass
            counts = np.bincount(keys, minlength=width * width)
            keys = np.flatnonzero(counts)
            small = np.min_scalar_type(counts.max(initial=0))
            if width * width <= 6 * len(keys):  # many pairs held: dense, read at once, at
                return None, counts.astype(small), width  # most twice the keys' bytes
            return keys, counts[keys].astype(small), width
        keys, counts = np.unique(keys, return_counts=True)
        return keys, counts.astype(np.min_scalar_type(counts.max(initial=0))), width

    return graph.cached_for(("sequence pair table", hop.relation), (), compute)


def _from_table(table: PairTable, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The counts ``table`` holds for the pairs of product indices ``(a, b)`` (-1: not a
    stored product; 0 for those and for a product with itself)."""
    keys, counts, width = table
    out = np.zeros(len(a), np.int64)
    ok = (a >= 0) & (b >= 0) & (a != b) & (a < width) & (b < width)
    wanted = a[ok] * width + b[ok]
    if keys is None:
        out[ok] = counts[wanted]
    elif len(keys) and len(wanted):
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        out[ok] = np.where(keys[at] == wanted, counts[at], 0)
    return out


def keep_from_table(graph: KnowledgeGraph, pairs: Sequence[tuple[str, str]], a: np.ndarray,
                    b: np.ndarray, hop: SequenceHop) -> bool:
    """Keep :func:`sequence_people` of each of ``pairs`` (products, graph indices ``a`` and
    ``b``) read from :func:`pair_table` at once; False (nothing kept) when there is none."""
    table = pair_table(graph, hop)
    if table is None:
        return False
    keep_fresh(graph.cached_for(("sequence people", hop.relation), (), dict), pairs,
               lambda fresh: _from_table(table, a[fresh], b[fresh]).tolist())
    return True


def sequence_people(graph: KnowledgeGraph, a: str, b: str, hop: SequenceHop) -> int:
    """How many people's stored events put ``b`` within ``hop``'s window and lag after
    ``a`` (products; 0 for anything else): the count the session component made of the
    pair, on the graph's events (each pair's count kept until nodes are added: module
    docstring)."""
    counts = graph.cached_for(("sequence people", hop.relation), (), dict)
    found = counts.get((a, b))
    if found is None:
        if len(counts) >= MAX_KEPT:  # bounded: a long-running server asks many pairs
            counts.clear()
        found = counts[(a, b)] = _count(graph, a, b, hop)
    return found


def count_pairs(graph: KnowledgeGraph, pairs: Sequence[tuple[str, str]], hop: SequenceHop
                ) -> None:
    """Count :func:`sequence_people` of each pair ``(a, b)`` not counted yet, at once (the
    same counts: one search over every pair's people), and keep them for its later calls."""
    counts = graph.cached_for(("sequence people", hop.relation), (), dict)
    wanted = [pair for pair in dict.fromkeys(pairs) if pair not in counts]
    if not wanted:
        return
    if len(counts) + len(wanted) > MAX_KEPT:  # bounded, as one by one
        counts.clear()
    counts.update(zip(wanted, _counts(graph, wanted, hop).tolist(), strict=True))


def _count(graph: KnowledgeGraph, a: str, b: str, hop: SequenceHop) -> int:
    return int(_counts(graph, [(a, b)], hop)[0])


def _product(graph: KnowledgeGraph, node: str, width: int) -> int:
    """The product index of ``node`` below ``width``, or -1 (not a stored product)."""
    if not (node.startswith("product:") and graph.has_node(node)):
        return -1
    i = graph.index(node)
    return i if i < width else -1


def _counts(graph: KnowledgeGraph, pairs: Sequence[tuple[str, str]], hop: SequenceHop
            ) -> np.ndarray:
    """The people whose events put ``b`` within ``hop`` after ``a``, for each pair ``(a, b)``
    of ``pairs`` (0 unless both are stored products and differ): read from
    :func:`pair_table`, else in one pass over the a's people for them all."""

    out = np.zeros(len(pairs), np.int64)
    which, times, positions = _events(graph)
    width = which.shape[1]
    index = {node: _product(graph, node, width) for node in {n for pair in pairs for n in pair}}
    table = pair_table(graph, hop)
    if table is not None:
        return _from_table(table, np.array([index[a] for a, _ in pairs], np.int64),
                           np.array([index[b] for _, b in pairs], np.int64))
    known = [(j, index[a], index[b]) for j, (a, b) in enumerate(pairs)
             if index[a] >= 0 and index[b] >= 0 and index[a] != index[b]]
    if not known:
        return out
    # (a request's few pairs: listed in Python, each b numbered by first appearance)
    rows: dict[int, int] = {}
    at_, ia_, row_ = zip(*((j, a, rows.setdefault(b, len(rows))) for j, a, b in known),
                         strict=True)
    ia, row = np.array(ia_, np.int64), np.array(row_, np.int64)
    lo, hi = which.indptr[ia], which.indptr[ia + 1]
    at = spans(lo, hi)
    owner = np.repeat(np.arange(len(ia)), hi - lo)
    # each b's people as a dense row (their b event's number + 1, 0: none), read at each of
    # a's people: what intersecting b's people with a's finds, for every pair at once
    bs = np.array(list(rows), np.int64)
    mark = np.zeros((len(bs), which.shape[0]), np.int64)
    blo, bhi = which.indptr[bs], which.indptr[bs + 1]
    into = spans(blo, bhi)
    mark[np.repeat(np.arange(len(bs)), bhi - blo), which.indices[into]] = which.data[into]
    found = mark[row[owner], which.indices[at]]
    both = np.flatnonzero(found)
    ka = which.data[at[both]].astype(np.int64) - 1
    kb = found[both] - 1
    lag = positions[kb] - positions[ka]
    near = (lag >= 1) & (lag <= hop.max_lag) & (times[kb] - times[ka] <= hop.window)
    out[list(at_)] = np.bincount(owner[both], near, len(ia)).astype(np.int64)
    return out


def sequence_verb(graph: KnowledgeGraph) -> str:
    """What the counted people did: the one kind of user -> product event the graph has
    ("rated"), else "showed interest in"."""
    from kg.interactions import PRODUCT_RELATIONS, user_product_blocks

    def compute() -> str:
        kinds = {c.relation for c in user_product_blocks(graph, PRODUCT_RELATIONS)}
        return _VERBS.get(next(iter(kinds)), _ANY) if len(kinds) == 1 else _ANY

    return graph.cached_for(("sequence verb",), PRODUCT_RELATIONS, compute)


def window_words(seconds: float) -> str:
    """A window as the words after "within the next": "hour", "day", "3 days"."""
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds:g} seconds"
