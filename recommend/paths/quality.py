"""What makes a path a good explanation: the recency of its linking interaction and the
popularity of its shared entity (Balloccu et al., SIGIR 2022).

Both are an exponentially weighted moving average (EWMA) read at one position of an ordered
list, min-max normalised to [0, 1]. We follow the paper's original code, not hopwise's:

- **LIR** (linking interaction recency): the user's timed interactions (out-edges with a
  time; a repeated ``(relation, target)`` keeps its latest time) ordered by time; the EWMA with
  ``span=10`` runs over their *rank positions* 0..n-1, is min-max normalised per user and read
  at the path's first hop. 1 is the user's latest interaction, 0 their oldest. hopwise instead
  runs ``ewm(span=n)`` over the raw timestamps (:func:`interaction_recency` with
  ``variant="hopwise"``): it follows the time gaps, not just the order.
- **SEP** (shared entity popularity): the entities of one type ordered by degree (stored
  edges, both directions); the same EWMA over positions, normalised per type, read at the
  path's shared entity (:func:`shared_entity`: the node the item's side of the path meets, e.g.
  the brand of ``A -made_by-> brand <-made_by- item``). 1 is the most connected entity of
  its type.

A single value normalises to 1. Ties (equal times, equal degrees) share the mean of their
positions' values, so the order of ids never matters. The EWMA is pandas' ``adjust=True``
``ewm(span=...).mean()``, in numpy (pandas is not a dependency).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from kg.schema import RELATIONS

if TYPE_CHECKING:
    from kg.edges import EdgeColumns
    from kg.graph import KnowledgeGraph

__all__ = ["SPAN", "UserActs", "act_times", "block_columns", "degrees", "entity_popularity", "ewma",
           "interaction_recency", "kept_act_times", "linking_interaction", "normalised_ewma",
           "shared_entity", "times_at", "touching", "user_interactions"]

#: The EWMA span of the paper's code.
SPAN = 10.0
#: The longest list whose smoothed ranks are kept (1,024 lengths at most: 32 MB at worst);
#: longer ones (a node type's degrees: :func:`entity_popularity`) are kept for the
#: :data:`LONG_RANKS_KEPT` latest lengths.
MAX_CACHED_RANKS = 4096
LONG_RANKS_KEPT = 4

EdgeTriple = tuple[str, str, str]


def ewma(values: np.ndarray, span: float) -> np.ndarray:
    """pandas' ``Series(values).ewm(span=span, adjust=True).mean()``: at t, the mean of
    values[0..t] weighted (1 - a)^(t - s), a = 2 / (span + 1)."""
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    x = np.asarray(values, np.float64)
    if len(x) == 0:
        return x
    a = 2.0 / (span + 1.0)
    out = np.empty_like(x)
    num = den = 0.0
    for t, v in enumerate(x.tolist()):
        num = num * (1 - a) + v
        den = den * (1 - a) + 1.0
        out[t] = num / den
    return out


def normalised_ewma(keys: np.ndarray, *, span: float = SPAN,
                    over: Literal["position", "key"] = "position") -> np.ndarray:
    """Per element of ``keys`` (times, degrees): the min-max normalised EWMA of the list sorted
    by key, over rank positions (``over="position"``) or the key values themselves, read at
    the element; ties get their group's mean (module doc)."""
    keys = np.asarray(keys, np.float64)
    n = len(keys)
    if n == 0:
        return keys
    order = keys.argsort(kind="stable")
    if over == "position":
        norm = (_ranks_smoothed(n, float(span)) if n <= MAX_CACHED_RANKS
                else _long_ranks_smoothed(n, float(span)))
    else:
        norm = _smoothed(keys[order], span)
    sorted_keys = keys[order]
    # (np.concatenate, not np.r_: a request's LIR pays np.r_'s ~20 us parsing twice)
    starts = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])).nonzero()[0]
    out = np.empty(n)
    if len(starts) == n:  # no ties (a user's distinct times): each its own value
        out[order] = norm
        return out
    sums = np.add.reduceat(norm, starts)
    sizes = np.concatenate((starts[1:], [n])) - starts
    group = np.arange(len(starts)).repeat(sizes)
    out[order] = (sums / sizes)[group]
    return out


def _smoothed(series: np.ndarray, span: float) -> np.ndarray:
    """The min-max normalised EWMA of ``series`` (all ones when it is flat)."""
    smooth = ewma(series, span)
    lo, hi = smooth.min(), smooth.max()
    return np.ones(len(series)) if hi - lo <= 0 else (smooth - lo) / (hi - lo)


@functools.lru_cache(maxsize=1024)
def _ranks_smoothed(n: int, span: float) -> np.ndarray:
    """:func:`_smoothed` of the rank positions ``0 .. n - 1``: the same for every list of
    ``n`` keys (a request's LIR sorts the user's interactions), so made once per length
    (read only)."""
    out = _smoothed(np.arange(n, dtype=np.float64), span)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=LONG_RANKS_KEPT)
def _long_ranks_smoothed(n: int, span: float) -> np.ndarray:
    """:func:`_ranks_smoothed` past :data:`MAX_CACHED_RANKS` (a node type's count: an add of
    edges keeps it, and its popularity is remade with the same ranks)."""
    return _ranks_smoothed.__wrapped__(n, span)


def block_columns(graph: KnowledgeGraph, key: tuple[str, str, str]) -> EdgeColumns:
    """The edge columns of the ``(src type, relation, dst type)`` block ``key`` (one that
    holds edges, e.g. a :meth:`~kg.graph.KnowledgeGraph.neighbor_indices` entry's ``key``),
    kept until the graph changes (a request asks it for each block of the user's edges)."""
    kept = graph.cached(("block columns",), dict)
    found = kept.get(key)
    if found is None:
        src_type, relation, dst_type = key
        found = kept.setdefault(key, next(c for c in graph.edge_blocks(relation)
                                          if (c.src_type, c.dst_type) == (src_type, dst_type)))
    return found


class UserActs(dict):  # type: ignore[type-arg]
    """:func:`user_interactions`' ``(relation, target) -> latest time``, that also holds the
    user's :func:`act_times` by first hop (:attr:`hops`), made from the same reading of their
    edges when first asked: a request's grouping, recency and dates read them once."""

    def __init__(self, graph: KnowledgeGraph, user_id: str) -> None:
        super().__init__()
        timed_of: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        #: (relation, node type) -> :func:`act_times` (asked with ``get``; read only)
        self.hops = _Hops(timed_of)
        if not graph.has_node(user_id):
            return
        found: dict[tuple[str, str], float] = {}
        for nb in graph.neighbor_indices(user_id, direction="out"):  # index arrays, no Edge
            ts = block_columns(graph, nb.key).ts[nb.positions]
            timed_of[(nb.relation, nb.dst_type)] = (nb.indices, ts)
            # typed ids made from the store's raw ids (graph.node_id's text, one call fewer each)
            rel, prefix, raw = nb.relation, nb.dst_type + ":", graph.raw_ids(nb.dst_type)
            for j, t in zip(nb.indices.tolist(), ts.tolist(), strict=True):
                if -1e299 < t < math.inf:  # a known time (NaN, infinities fail: unknown)
                    key = (rel, prefix + raw[j])
                    old = found.get(key)
                    if old is None or t > old:
                        found[key] = t
        self.update(found)  # (filled as a plain dict: a subclass's item access is slower)


class _Hops(dict):  # type: ignore[type-arg]
    """:attr:`UserActs.hops`: each hop's :func:`act_times`, made from the user's edges of
    that block when first asked (a hop the user has no block of: none)."""

    def __init__(self, timed_of: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]) -> None:
        super().__init__()
        self._timed_of = timed_of

    def __missing__(self, hop: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """:func:`act_times` over ``hop``, made and kept when first asked (``hops[hop]``)."""
        idx, ts = self._timed_of.get(hop, _NO_TIMES)
        timed = np.isfinite(ts) & (ts > -1e299)
        found = self[hop] = _latest([idx[timed].astype(np.int64)],
                                    [ts[timed].astype(np.float64)])
        return found


_NO_TIMES = (np.zeros(0, np.int64), np.zeros(0))


def user_interactions(graph: KnowledgeGraph, user_id: str) -> UserActs:
    """The user's timed out-edges: ``(relation, target) -> latest time`` (a :class:`UserActs`,
    holding their act times by first hop too)."""
    return UserActs(graph, user_id)


def act_times(graph: KnowledgeGraph, user_id: str, relation: str, node_type: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """The ``node_type`` nodes the user's timed ``relation`` edges reach (sorted distinct
    indices) and the latest time of each (as in :func:`user_interactions`, read from the
    edge arrays); a node not listed has none. No array over every node of the type is made
    (80,000 posts: 640 kB a request)."""
    found, times = [], []
    if graph.has_node(user_id):
        for nb in graph.neighbor_indices(user_id, relation):
            if nb.dst_type == node_type:
                ts = block_columns(graph, nb.key).ts[nb.positions]
                timed = np.isfinite(ts) & (ts > -1e299)
                found.append(nb.indices[timed].astype(np.int64))
                times.append(ts[timed].astype(np.float64))
    return _latest(found, times)


def _latest(found: list[np.ndarray], times: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`act_times` of the timed edges' nodes ``found`` and times ``times`` (by block)."""
    if not found:
        return np.zeros(0, np.int64), np.zeros(0)
    idx, ts = np.concatenate(found), np.concatenate(times)
    order = np.lexsort((ts, idx))  # by node, then time: each node's last is its latest
    idx, ts = idx[order], ts[order]
    last = np.append(idx[1:] != idx[:-1], True) if len(idx) else np.zeros(0, bool)
    return idx[last], ts[last]


def kept_act_times(graph: KnowledgeGraph, user_id: str, hop: tuple[str, str],
                   kept: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`act_times` over a first ``hop`` (relation, node type), kept in ``kept`` (a
    request's: asked again by each meta-path starting with that hop; or a :class:`UserActs`'
    :attr:`~UserActs.hops`, which hold them all)."""
    try:
        return kept[hop]  # (a UserActs' hops make it when first asked)
    except KeyError:
        return kept.setdefault(hop, act_times(graph, user_id, *hop))


def times_at(listed: tuple[np.ndarray, np.ndarray], nodes: np.ndarray) -> np.ndarray:
    """The times :func:`act_times` ``listed`` at ``nodes``; -inf where it lists none."""
    idx, ts = listed
    if not len(idx):
        return np.full(len(nodes), -np.inf)
    pos = np.minimum(idx.searchsorted(nodes), len(idx) - 1)
    return np.where(idx[pos] == nodes, ts[pos], -np.inf)


def interaction_recency(
    graph: KnowledgeGraph, user_id: str, *, span: float = SPAN,
    variant: Literal["original", "hopwise"] = "original",
    times: dict[tuple[str, str], float] | None = None,
) -> dict[tuple[str, str], float]:
    """LIR of each of the user's timed interactions, ``(relation, target) -> [0, 1]``
    (module doc; hopwise: ``ewm(span=n)`` over the timestamps); ``times``: the user's
    :func:`user_interactions`, when the caller has them."""
    times = user_interactions(graph, user_id) if times is None else times
    keys = list(times)
    values = np.fromiter(times.values(), np.float64, len(keys))
    if variant == "original":
        lir = normalised_ewma(values, span=span)
    else:
        lir = normalised_ewma(values, span=max(len(values), 1), over="key")
    return dict(zip(keys, lir.tolist(), strict=True))


def entity_popularity(graph: KnowledgeGraph, node_type: str, *, span: float = SPAN
                      ) -> np.ndarray:
    """SEP of every node of ``node_type`` (by node index), from its degree over all stored
    edges; kept until a node is added or a relation that may touch ``node_type`` gains edges
    (an event leaves the categories' and brands' popularity as it was)."""
    key = ("entity_popularity", node_type, span)
    return graph.cached_for(key, touching(node_type),
                            lambda: normalised_ewma(degrees(graph, node_type), span=span))


def degrees(graph: KnowledgeGraph, node_type: str) -> np.ndarray:
    """Per node of ``node_type`` (by index), how many stored edges start or end at it (as
    floats); kept as :func:`entity_popularity` is, then grown by the edges added since (whole
    counts: the same sums in any order)."""

    def count(n: int, degree: np.ndarray, seen: dict[tuple[str, str, str], int]) -> np.ndarray:
        for c in graph.edge_blocks():
            start = seen.get((c.src_type, c.relation, c.dst_type), 0)
            if c.src_type == node_type and len(c) > start:
                degree += np.bincount(c.src[start:], minlength=n)[:n]
            if c.dst_type == node_type and len(c) > start:
                degree += np.bincount(c.dst[start:], minlength=n)[:n]
        return degree

    def grow(old: np.ndarray, seen: dict[tuple[str, str, str], int]) -> np.ndarray | None:
        n = graph.num_nodes(node_type)
        if len(old) > n:
            return None
        return count(n, np.concatenate([old, np.zeros(n - len(old))]), seen)

    n = graph.num_nodes(node_type)
    return graph.cached_grown(("degrees", node_type), touching(node_type),
                              lambda: count(n, np.zeros(n), {}), grow)


@functools.cache
def touching(node_type: str) -> tuple[str, ...]:
    """The relations that may start or end at ``node_type`` (:data:`kg.schema.RELATIONS`)."""
    return tuple(r.name for r in RELATIONS.values()
                 if node_type in r.src_types or node_type in r.dst_types)


def linking_interaction(nodes: Sequence[str], edges: Sequence[EdgeTriple]
                        ) -> tuple[str, str] | None:
    """``(relation, target)`` of the path's first hop when it is the user's own out-edge."""
    if not edges:
        return None
    src, rel, dst = edges[0]
    return (rel, dst) if src == nodes[0] and dst == nodes[1] else None


def shared_entity(nodes: Sequence[str], edges: Sequence[EdgeTriple]) -> str | None:
    """The node the path reaches the item through (None for a one-hop path): where the
    path's last run of hops stored from the item's side starts (``A -made_by-> brand
    <-made_by- item``: the brand; a climb to a shared broader category,
    ``... C -broader-> X <-broader- C' <-in_category- item``: X), else the node before the
    item."""
    if len(nodes) < 3:
        return None
    t = len(edges)
    while t > 1 and edges[t - 1][0] == nodes[t]:  # hop t-1 stored from its later node
        t -= 1
    return nodes[t] if t < len(edges) else nodes[-2]
