"""The graph's user -> product interactions as sparse matrices: one place for "seen".

Every component, the validation split and the evaluation read interactions through these
functions, over the graph's user and product indices:

- :func:`relation_matrix`: summed edge weights of some relations (users x products);
- :func:`seen_matrix`: 0/1, the user has any event on the product (what "seen" means);
- :func:`latest_times`: each (user, product) pair's latest (or first) event time;
- :func:`history_matrix`: the seen history weighted by recency rank;
- :func:`training_matrix`: what a model learns from for given target relations.

The target relations a hold-out draws from (:mod:`recommend.hybrid.targets`) are event
relations, or :data:`POST_TIER`: "a product named by a post the user engaged with", for data
whose events are (nearly) all on posts. It is no stored relation: its pairs are made from
the user -> post engagements (:data:`POST_ENGAGEMENTS`) and the posts' naming relations
(:data:`NAMING_RELATIONS`), and :func:`latest_times` reads it beside stored relations.

A model judged on the post tier learns from it (:func:`training_matrix`), and its users'
history and "seen" include it: ``seen_matrix(graph, targets)`` and ``history_matrix(graph,
tau, targets)`` with :data:`POST_TIER` among ``targets`` (:func:`learned_relations`). A
product the user wrote, liked, commented on or shared a post about is one they know: it is
not recommended to them again, as a product they bought is not (and the peers and
baselines, which learn from the same pairs, leave it out too). Without the tier among the
targets, both are the events' alone.

Edges without a time carry :data:`NO_TIME` (sorts before every real time). Seen, pair
times and histories are computed once per graph version (:meth:`kg.graph.KnowledgeGraph.
cached`): loading an artifact and refreshing every component builds "seen" once. Do not
modify what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.schema import EVENT_RELATIONS

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

#: The user -> product relations an event makes: what "seen" means.
PRODUCT_RELATIONS: tuple[str, ...] = tuple(EVENT_RELATIONS.values())

#: The stored time of an edge whose time is unknown.
NO_TIME = -1e300

#: Post -> product relations through which a post names a product.
NAMING_RELATIONS: tuple[str, ...] = ("mentions", "comments_on")
#: User -> post relations by which a user engages with a post: wrote, liked, commented, shared
#: (a view or a click of a post is not a choice, as a view of a product is the last tier).
POST_ENGAGEMENTS: tuple[str, ...] = ("authored", "liked", "commented", "shared")
#: The target tier "a product named by a post the user engaged with" (module docstring).
POST_TIER = "post_named"
#: The stored relations whose edges make the :data:`POST_TIER` pairs.
POST_TIER_RELATIONS: tuple[str, ...] = (*POST_ENGAGEMENTS, *NAMING_RELATIONS)


def user_product_blocks(graph: KnowledgeGraph, relations: Sequence[str]) -> list:
    """The non-empty user -> product edge blocks of ``relations``."""
    return [c for rel in relations for c in graph.edge_blocks(rel)
            if c.src_type == "user" and c.dst_type == "product" and len(c)]


def relation_matrix(graph: KnowledgeGraph, relations: Sequence[str]) -> sp.csr_matrix:
    """(users x products) sum of the weights of ``relations`` (user -> product edges;
    :data:`POST_TIER`: its pairs, weighing 1)."""
    shape = (graph.num_nodes("user"), graph.num_nodes("product"))
    out = sp.csr_matrix(shape, dtype=np.float64)
    for rel in relations:
        if rel == POST_TIER:
            out = out + post_pairs(graph)
        elif user_product_blocks(graph, (rel,)):  # the graph caches each relation's matrix
            out = out + graph.matrix(rel, dst_type="product", src_type="user")
    out = sp.csr_matrix(out)
    out.eliminate_zeros()
    return out


def naming_matrix(graph: KnowledgeGraph) -> sp.csr_matrix:
    """(posts x products) 0/1: the post names the product (:data:`NAMING_RELATIONS`)."""

    def compute() -> sp.csr_matrix:
        shape = (graph.num_nodes("post"), graph.num_nodes("product"))
        blocks = [c for rel in NAMING_RELATIONS for c in graph.edge_blocks(rel)
                  if c.src_type == "post" and c.dst_type == "product" and len(c)]
        src = np.concatenate([c.src for c in blocks]) if blocks else np.zeros(0, np.int64)
        dst = np.concatenate([c.dst for c in blocks]) if blocks else np.zeros(0, np.int64)
        names = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=shape)
        names.sum_duplicates()
        names.data[:] = 1.0
        return names

    return graph.cached("names", compute)


def has_target(graph: KnowledgeGraph, relation: str) -> bool:
    """Whether ``graph`` holds pairs of target ``relation`` (an event relation or
    :data:`POST_TIER`)."""
    if relation != POST_TIER:
        return bool(user_product_blocks(graph, (relation,)))
    return naming_matrix(graph).nnz > 0 and any(
        c.src_type == "user" and c.dst_type == "post" and len(c)
        for rel in POST_ENGAGEMENTS for c in graph.edge_blocks(rel))


def _post_named(graph: KnowledgeGraph, users: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(user, product, time, weight) of each engagement of ``users`` (all when None) with a
    post, once per product the post names (the :data:`POST_TIER` pairs, unreduced)."""
    names = naming_matrix(graph)
    parts: list[tuple[np.ndarray, ...]] = []
    for rel in POST_ENGAGEMENTS:
        if users is None:
            found: list[tuple[Any, Any]] = [(c, slice(None)) for c in graph.edge_blocks(rel)
                                            if c.src_type == "user"]
        else:
            found = list(graph.edges_from(rel, "user", users))
        parts += [(c.src[at], c.dst[at], c.ts[at], c.weight[at]) for c, at in found
                  if c.dst_type == "post" and len(c)]
    if not parts or names.nnz == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    u, post, t, w = (np.concatenate([p[i] for p in parts]) for i in range(4))
    rows = names[post.astype(np.int64)]
    counts = np.diff(rows.indptr)
    t = np.nan_to_num(t.astype(np.float64), nan=NO_TIME)
    return (np.repeat(u.astype(np.int64), counts), rows.indices.astype(np.int64),
            np.repeat(t, counts), np.repeat(w.astype(np.float64), counts))


def learned_relations(targets: Sequence[str]) -> tuple[str, ...]:
    """The relations a model judged on ``targets`` learns from (pair times, histories):
    every event relation, and :data:`POST_TIER` when it is among ``targets``."""
    return (*PRODUCT_RELATIONS, POST_TIER) if POST_TIER in targets else PRODUCT_RELATIONS


def post_pairs(graph: KnowledgeGraph, users: np.ndarray | None = None) -> sp.csr_matrix:
    """0/1 :data:`POST_TIER` pairs: (users x products), or the rows ``users`` (sorted)."""
    u, d, _, _ = _post_named(graph, users)
    n_users = graph.num_nodes("user")
    if users is not None:
        pos = np.full(n_users, -1, np.int64)
        pos[users] = np.arange(len(users))
        u, n_users = pos[u], len(users)
    out = sp.csr_matrix((np.ones(len(u)), (u, d)), shape=(n_users, graph.num_nodes("product")))
    out.sum_duplicates()
    out.data[:] = 1.0
    return out


def training_matrix(graph: KnowledgeGraph, targets: Sequence[str]) -> sp.csr_matrix:
    """(users x products) summed weights a model judged on ``targets`` learns from: the
    user -> product events, and with :data:`POST_TIER` among the targets, the weights of
    the user's engagements with posts naming the product."""
    out = relation_matrix(graph, PRODUCT_RELATIONS)
    if POST_TIER in targets:
        u, d, _, w = _post_named(graph)
        out = sp.csr_matrix(out + sp.csr_matrix((w, (u, d)), shape=out.shape))
        out.eliminate_zeros()
    return out


def log_strength(x: sp.csr_matrix) -> sp.csr_matrix:
    """A copy of summed interaction weights ``x`` as ``log1p`` (its dtype kept), the pairs
    summing to 0 or less (ratings the contract allows down to below zero: no sign of
    liking) dropped."""
    out = x.copy()
    out.data = np.log1p(np.maximum(out.data, 0))
    out.eliminate_zeros()
    return out


def seen_matrix(graph: KnowledgeGraph, targets: Sequence[str] = ()) -> sp.csr_matrix:
    """(users x products) 0/1: the user has any event on the product (with :data:`POST_TIER`
    among ``targets``: or engaged with a post naming it)."""
    if POST_TIER not in targets:
        return graph.cached("seen", lambda: _seen(relation_matrix(graph, PRODUCT_RELATIONS)))
    return graph.cached(("seen", POST_TIER), lambda: _seen(
        relation_matrix(graph, PRODUCT_RELATIONS), post_pairs(graph)))


def _seen(events: sp.csr_matrix, posts: sp.csr_matrix | None = None) -> sp.csr_matrix:
    """0/1 of summed event weights ``events`` (no stored zero), or of a post-tier pair."""
    m = events if posts is None else sp.csr_matrix(abs(events) + posts)
    m.data[:] = 1.0
    return m


def latest_times(graph: KnowledgeGraph, relations: Sequence[str], *,
                 first: bool = False) -> sp.coo_matrix:
    """(users x products) latest (``first``: earliest) time of the pairs' ``relations`` edges;
    an unknown time is stored as :data:`NO_TIME`."""
    return graph.cached(("times", tuple(relations), first),
                        lambda: _pair_times(graph, relations, first))


def _pair_times(graph: KnowledgeGraph, relations: Sequence[str], first: bool,
                users: np.ndarray | None = None) -> sp.coo_matrix:
    """Each pair's latest (``first``: earliest) time, sorted by (user, product); only the
    pairs of ``users`` when given."""
    shape = (graph.num_nodes("user"), graph.num_nodes("product"))
    stored = [r for r in relations if r != POST_TIER]
    if users is None:
        blocks = user_product_blocks(graph, stored)
        keep: list[Any] = [slice(None)] * len(blocks)
    else:  # the users' edges, through each block's adjacency
        found = [(c, at) for rel in stored for c, at in graph.edges_from(rel, "user", users)
                 if c.dst_type == "product" and len(c)]
        blocks, keep = [c for c, _ in found], [at for _, at in found]
    parts = [(c.src[k].astype(np.int64), c.dst[k].astype(np.int64),
              np.nan_to_num(c.ts[k].astype(np.float64), nan=NO_TIME))
             for c, k in zip(blocks, keep, strict=True)]
    if POST_TIER in relations:
        parts.append(_post_named(graph, users)[:3])
    if not parts:
        return sp.coo_matrix(shape)
    s, d, t = (np.concatenate([p[i] for p in parts]) for i in range(3))
    if len(s) == 0:  # the users have no such edge
        return sp.coo_matrix(shape)
    key = s * shape[1] + d
    if first:  # earliest known time; unknown only when the pair has no known time
        t_sort = np.where(t == NO_TIME, np.inf, t)
        order = np.lexsort((-t_sort, key))  # by pair, earliest last
    else:
        order = np.lexsort((t, key))  # by pair, latest last
    last = np.r_[key[order][1:] != key[order][:-1], True]
    pick = order[last]
    return sp.coo_matrix((t[pick], (s[pick], d[pick])), shape=shape)


def history_matrix(graph: KnowledgeGraph, recency_tau: float | None,
                   targets: Sequence[str] = ()) -> sp.csr_matrix:
    """(users x products) seen history (of a model judged on ``targets``: :func:`seen_matrix`),
    recency weighted by ``exp(-rank_from_latest / tau)``.

    A product's time is the user's latest event on it (ties: by product index); products
    without a known time weigh 1.
    """
    key = ("history", recency_tau) + ((POST_TIER,) if POST_TIER in targets else ())
    return graph.cached(key, lambda: _history(graph, recency_tau, targets))


def _history(graph: KnowledgeGraph, recency_tau: float | None,
             targets: Sequence[str]) -> sp.csr_matrix:
    if recency_tau is None:
        return seen_matrix(graph, targets)
    return _recency(latest_times(graph, learned_relations(targets)).tocsr(), recency_tau)


def _recency(latest: sp.csr_matrix, recency_tau: float) -> sp.csr_matrix:
    """History weights from pair times (any rows: each row is ranked on its own)."""
    latest = latest.sorted_indices()
    rows = np.repeat(np.arange(latest.shape[0]), np.diff(latest.indptr))
    ts = latest.data
    order = np.lexsort((ts, rows))  # by user, then time (latest last)
    ends = latest.indptr[rows[order] + 1]
    rank = ends - 1 - np.arange(len(order))
    weights = np.empty(len(ts))
    weights[order] = np.exp(-rank / recency_tau)
    weights[ts <= NO_TIME] = 1.0
    return sp.csr_matrix((weights, latest.indices, latest.indptr), shape=latest.shape)


# ----- following added edges (kg.delta) -----

def _rows_of(coo: sp.coo_matrix, users: np.ndarray) -> sp.csr_matrix:
    """The rows ``users`` (sorted) of a matrix given as COO, as a (len(users) x n) CSR."""
    pos = np.full(coo.shape[0], -1, np.int64)
    pos[users] = np.arange(len(users))
    keep = pos[coo.row] >= 0
    return sp.csr_matrix((coo.data[keep], (pos[coo.row[keep]], coo.col[keep])),
                         shape=(len(users), coo.shape[1]))


def _splice_sorted_coo(coo: sp.coo_matrix, users: np.ndarray, rows: sp.csr_matrix
                       ) -> sp.coo_matrix:
    """A (row, column)-sorted COO with its rows ``users`` (sorted, unique) replaced by
    ``rows`` (``len(users)`` x the same columns, sorted): the same matrix as converting it to
    CSR, :func:`kg.delta.splice_rows` and back, by copying its arrays around the rows once."""
    if rows.shape != (len(users), coo.shape[1]):
        raise ValueError(f"new rows are {rows.shape}, expected {(len(users), coo.shape[1])}")
    at = users.astype(coo.row.dtype)  # (an int64 key would convert the whole column)
    lo, hi = np.searchsorted(coo.row, at, "left"), np.searchsorted(coo.row, at, "right")
    keep = np.r_[0, hi], np.r_[lo, coo.nnz]  # the old entries between the users' rows
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for k, (a, b) in enumerate(zip(*keep, strict=True)):
        parts.append((coo.row[a:b], coo.col[a:b], coo.data[a:b]))
        if k < len(users):
            span = slice(rows.indptr[k], rows.indptr[k + 1])
            parts.append((np.full(span.stop - span.start, users[k], coo.row.dtype),
                          rows.indices[span], rows.data[span]))
    row, col, data = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return sp.coo_matrix((data.astype(coo.data.dtype, copy=False), (row, col)),
                         shape=coo.shape)


def relation_rows(graph: KnowledgeGraph, relations: Sequence[str], users: np.ndarray
                  ) -> sp.csr_matrix:
    """Rows ``users`` of :func:`relation_matrix` (same values, computed from those rows)."""
    out = sp.csr_matrix((len(users), graph.num_nodes("product")), dtype=np.float64)
    for rel in relations:
        if user_product_blocks(graph, (rel,)):
            out = out + graph.matrix(rel, dst_type="product", src_type="user")[users]
    out = sp.csr_matrix(out)
    out.eliminate_zeros()
    return out


def grow_interactions(old: KnowledgeGraph, graph: KnowledgeGraph, users: np.ndarray) -> None:
    """Carry ``old``'s cached seen matrix, pair times and histories over to ``graph``, grown
    from it by new edges whose users are only ``users`` and no new node (:mod:`kg.delta`):
    only those users' rows are recomputed, each as the full computation would."""
    from kg.delta import splice_rows

    users = np.asarray(users, np.int64)
    for key, posts in (("seen", None), (("seen", POST_TIER), post_pairs)):
        seen = old.cached_now(key)
        if seen is not None:
            mine = _seen(relation_rows(graph, PRODUCT_RELATIONS, users),
                         None if posts is None else posts(graph, users))
            graph.remember(key, splice_rows(seen, users, mine))
    rows: dict[tuple[tuple[str, ...], bool], sp.csr_matrix] = {}  # the users' pair times

    def times_of(relations: tuple[str, ...], first: bool) -> sp.csr_matrix:
        if (relations, first) not in rows:
            found = _pair_times(graph, relations, first, users)
            rows[(relations, first)] = _rows_of(found, users)
        return rows[(relations, first)]

    for key in old.cached_keys():
        if not (isinstance(key, tuple) and key[0] == "times"):
            continue
        times = old.cached_now(key)
        if times is not None:
            graph.remember(key, _splice_sorted_coo(times, users,
                                                   times_of(tuple(key[1]), key[2])))
    for key in old.cached_keys():
        if not (isinstance(key, tuple) and key[0] == "history"):
            continue
        history = old.cached_now(key)
        if history is None:
            continue
        tau, targets = key[1], key[2:]
        if tau is None:
            graph.remember(key, seen_matrix(graph, targets))
            continue
        graph.remember(key, splice_rows(history, users,
                                        _recency(times_of(learned_relations(targets), False),
                                                 tau)))
