"""The most people any co-interaction hop between two products can count: a test before
counting each kind.

A cf evidence path joins the user's product A to the item over people who did both
(:func:`recommend.paths.reasons.evidence_paths`: an aggregate of
:data:`recommend.paths.privacy.LINK_AGGREGATES`, or the rules' ``co_bought``), each counted
by :func:`recommend.paths.privacy.people` over one kind of act. Every such count is at most
the number of people with any act on both (a person counted for one kind has a nonzero
edge of that kind to both), so where that is below ``min_people`` no kind needs counting.
A cf split over every product of the user's (weighted ALS) offers many products joined to
the item by nobody: on the size world 59% of the hops tried had an end fewer than 5 people
touched.

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> g.add_edges("viewed", ["user:1", "user:2", "user:3"], ["product:A"] * 3)
>>> g.add_edges("purchased", ["user:2", "user:3"], ["product:B"] * 2)
>>> a, b = g.index("product:A"), g.index("product:B")
>>> acting(g, a), acting(g, b), co_acting(g, a, b)
(3, 2, 2)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.paths.people_counts import keep_fresh, people_counts
from recommend.paths.privacy import (
    AGGREGATES,
    ENGAGED,
    FOLLOWEE_AGGREGATES,
    doers_matrix,
    interactions_of,
)
from recommend.paths.user_reasons import has_block
from recommend.paths.walks import spans

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["CoActing", "acting", "acting_counts", "co_acting", "co_acting_any", "co_table",
           "keep_co_people", "kept_count"]

_ACTS = interactions_of(ENGAGED)
#: :func:`co_table` is made for catalogues of at most this many products (dense counts:
#: 32 MB at most, as uint16) ...
TABLE_WIDTH = 4096
#: ... when counting it takes at most this many (person, pair) terms (a person's acts
#: squared, summed).
TABLE_TERMS = 50_000_000
#: :func:`_acted` is grown from its kept matrix by at most this many new act edges ...
GROW_EDGES = 20_000
#: ... of at most this many users (each user's edges are read): past either, counted afresh.
GROW_USERS = 2_000


def _acted(graph: KnowledgeGraph) -> sp.csc_matrix:
    """(users x products) 1 where the user has a nonzero edge of some act to the product
    (each act's summed weight on its own: weights of different acts never cancel), by
    column; kept until those relations gain edges or a node is added, then grown from the
    kept one by the edges added since (:func:`_grown`) when it can be."""

    def compute() -> sp.csc_matrix:
        shape = (graph.num_nodes("user"), graph.num_nodes("product"))
        out = sp.csc_matrix(shape, dtype=bool)
        for rel in _ACTS:
            if has_block(graph, "user", rel, "product"):
                out = out + (graph.matrix(rel, dst_type="product", src_type="user") != 0)
        out = sp.csc_matrix(out)
        out.sort_indices()
        return out

    return graph.cached_grown(("paths co_people acted",), _ACTS, compute,
                              lambda old, seen: _grown(graph, old, seen))


def _grown(graph: KnowledgeGraph, old: sp.csc_matrix, seen: dict[tuple[str, str, str], int]
           ) -> sp.csc_matrix | None:
    """:func:`_acted` now, from ``old`` (made from the first ``seen[block]`` edges of each
    act block) and the edges added since: the (user, product) pairs they join are decided
    from all of their edges, the others are kept. None (count afresh) past
    :data:`GROW_EDGES` new edges or :data:`GROW_USERS` users, or when a pair's edges of one
    act mix signs (their sum could cancel, in an order only the full count knows)."""
    shape = (graph.num_nodes("user"), graph.num_nodes("product"))
    if old.shape[0] > shape[0] or old.shape[1] > shape[1]:
        return None
    blocks = [(rel, c) for rel in _ACTS for c in graph.edge_blocks(rel)
              if (c.src_type, c.dst_type) == ("user", "product")]
    fresh = [(c.src[seen.get(("user", rel, "product"), 0):],
              c.dst[seen.get(("user", rel, "product"), 0):]) for rel, c in blocks]
    users = np.unique(np.concatenate([u for u, _ in fresh] + [np.zeros(0, np.int64)]))
    if sum(len(u) for u, _ in fresh) > GROW_EDGES or len(users) > GROW_USERS:
        return None
    width = np.int64(shape[1])
    pairs = np.unique(np.concatenate([u * width + p for u, p in fresh]
                                     + [np.zeros(0, np.int64)]))
    acted = np.zeros(len(pairs), bool)
    for rel, _ in blocks:
        for c, pos in graph.edges_from(rel, "user", users):
            if c.dst_type != "product":
                continue
            key = c.src[pos] * width + c.dst[pos]
            at = np.searchsorted(pairs, key)
            mine = (at < len(pairs)) & (pairs[np.minimum(at, len(pairs) - 1)] == key)
            at, w = at[mine], c.weight[pos][mine]
            if np.any(np.isin(at[w > 0], at[w < 0])):
                return None
            acted[at[w != 0]] = True  # (one sign: the sum is 0 only if every weight is)
    return _with_pairs(old, shape, pairs // width, pairs % width, acted)


def _with_pairs(old: sp.csc_matrix, shape: tuple[int, int], users: np.ndarray,
                products: np.ndarray, acted: np.ndarray) -> sp.csc_matrix | None:
    """``old`` widened to ``shape`` with the pairs (``users``, ``products``) set where
    ``acted``, as a sorted CSC; None when one set already is not ``acted`` (edges of one
    sign cannot unset a pair: asked to count afresh)."""
    ptr, ind = old.indptr, old.indices
    ptr = np.concatenate([ptr, np.full(shape[1] - old.shape[1], ptr[-1], ptr.dtype)])
    order = np.lexsort((users, products))
    users, products, acted = users[order], products[order], acted[order]
    at = np.empty(len(users), np.int64)
    for k, (u, p) in enumerate(zip(users.tolist(), products.tolist(), strict=True)):
        lo, hi = ptr[p], ptr[p + 1]
        at[k] = lo + int(np.searchsorted(ind[lo:hi], u))
    held = np.zeros(len(users), bool)
    if len(ind):
        held = (at < ptr[products + 1]) & (ind[np.minimum(at, len(ind) - 1)] == users)
    if np.any(held & ~acted):
        return None
    new = acted & ~held
    grown = np.bincount(products[new], minlength=shape[1]).cumsum()
    indptr = ptr + np.concatenate([[0], grown]).astype(ptr.dtype)
    indices = np.insert(ind, at[new], users[new].astype(ind.dtype))
    out = sp.csc_matrix((np.ones(len(indices), bool), indices, indptr), shape=shape)
    out.has_sorted_indices = True
    return out


def acting_counts(graph: KnowledgeGraph) -> np.ndarray:
    """Per product index, how many people acted on it (:func:`acting` of every product; kept
    as the matrix it counts is)."""
    return graph.cached_for(("paths co_people acting",), _ACTS,
                            lambda: np.diff(_acted(graph).indptr))


def acting(graph: KnowledgeGraph, p: int, counts: np.ndarray | None = None) -> int:
    """How many people acted on product index ``p`` (a bound of any co-interaction count of
    it; a product past the graph's, or -1: 0); ``counts``: :func:`acting_counts`, when the
    caller holds them."""
    counts = acting_counts(graph) if counts is None else counts
    return int(counts[p]) if 0 <= p < len(counts) else 0


def co_acting(graph: KnowledgeGraph, a: int, b: int) -> int:
    """How many people acted on both product indices ``a`` and ``b`` (module doc; a product
    past the graph's, or -1: 0)."""
    acted = _acted(graph)
    if not (0 <= a < acted.shape[1] and 0 <= b < acted.shape[1]):
        return 0
    ptr, ind = acted.indptr, acted.indices
    return int(np.intersect1d(ind[ptr[a]:ptr[a + 1]], ind[ptr[b]:ptr[b + 1]],
                              assume_unique=True).size)


class CoActing:
    """:func:`co_acting` of one product index ``b`` with many (one item's cf links): ``b``'s
    people marked once (when first asked), each product's counted among them."""

    def __init__(self, graph: KnowledgeGraph, b: int) -> None:
        self._graph, self._b = graph, b
        self._acted, self._counts = _acted(graph), acting_counts(graph)
        self._mark: np.ndarray | None = None

    def __call__(self, a: int) -> int:
        """How many people acted on both ``a`` and ``b`` (either outside the graph: 0)."""
        ptr, ind, width = self._acted.indptr, self._acted.indices, self._acted.shape[1]
        if not (0 <= a < width and 0 <= self._b < width):
            return 0
        if self._mark is None:
            self._mark = np.zeros(self._acted.shape[0], bool)
            self._mark[ind[ptr[self._b]:ptr[self._b + 1]]] = True
        return int(np.count_nonzero(self._mark[ind[ptr[a]:ptr[a + 1]]]))

    def at_least(self, a: int, n: int) -> bool:
        """Whether ``self(a) >= n``, not counted when fewer than ``n`` acted on either end."""
        counts = self._counts
        if min(acting(self._graph, a, counts), acting(self._graph, self._b, counts)) < n:
            return False
        return self(a) >= n


def co_acting_any(graph: KnowledgeGraph, products: np.ndarray, items: np.ndarray, n: int, *,
                  kinds: Iterable[str] = (), chunk: int = 32) -> np.ndarray:
    """Per product index of ``items``, whether :func:`co_acting` of it with some product
    of ``products`` is at least ``n`` (indices outside the graph: nobody). Asked first of
    the :func:`co_table` of each of ``kinds`` there is (a kind's count is at most
    co_acting's); then the products are tried most acted on first, ``chunk`` at a time,
    for the items not answered yet."""
    products, items = np.asarray(products, np.int64), np.asarray(items, np.int64)
    if n <= 0:  # (every pair counts at least 0 people)
        return np.full(len(items), len(products) > 0)
    out = np.zeros(len(items), bool)
    open_ = np.flatnonzero(items >= 0)
    # (past TABLE_WIDTH products no kind has a table: none is asked for)
    for kind in sorted(kinds) if graph.num_nodes("product") <= TABLE_WIDTH else ():
        table = co_table(graph, kind)
        if table is None or not len(open_) or not len(products):
            continue
        # (a product or item past the table's: nobody did the kind to it)
        rows = products[(products >= 0) & (products < table.shape[0])]
        cols = open_[items[open_] < table.shape[1]]
        out[cols[(table[np.ix_(rows, items[cols])] >= n).any(axis=0)]] = True
        open_ = open_[~out[open_]]
    if not len(open_):
        return out
    acted, counts = _acted(graph), acting_counts(graph)
    ptr, ind, width = acted.indptr, acted.indices, acted.shape[1]
    products = products[(products >= 0) & (products < width)]
    products = products[counts[products] >= n]
    open_ = open_[items[open_] < width]
    open_ = open_[counts[items[open_]] >= n]
    if not len(open_) or not len(products):
        return out
    products = products[np.argsort(-counts[products], kind="stable")]
    # the open items' people, by person (no array over every person: 50,000 of them)
    lo, hi = ptr[items[open_]], ptr[items[open_] + 1]
    people, item = ind[spans(lo, hi)], np.repeat(np.arange(len(open_)), hi - lo)
    order = np.argsort(people, kind="stable")
    people, item = people[order], item[order]
    for s in range(0, len(products), chunk):
        part = products[s:s + chunk]
        lo, hi = ptr[part], ptr[part + 1]
        theirs = ind[spans(lo, hi)]  # each product's people, matched to the items' same ones
        first, last = np.searchsorted(people, theirs, "left"), np.searchsorted(people, theirs,
                                                                               "right")
        of = np.repeat(np.repeat(np.arange(len(part)), hi - lo), last - first)
        both = np.bincount(of * len(open_) + item[spans(first, last)],
                           minlength=len(part) * len(open_)).reshape(len(part), len(open_))
        out[open_[(both >= n).any(axis=0)]] = True
        if out[open_].all():
            break
    return out


def kept_count(graph: KnowledgeGraph, edge: tuple[str, str, str]) -> int | None:
    """:func:`recommend.paths.privacy.people`'s count of an aggregate hop ``edge`` when it is
    kept already (:mod:`recommend.paths.people_counts`; nothing is counted), else None."""
    src, rel, dst = edge
    interaction = AGGREGATES[rel].interaction
    return people_counts(graph, interaction, rel in FOLLOWEE_AGGREGATES,
                         interactions_of(interaction)).get((src, dst))


def co_table(graph: KnowledgeGraph, interaction: str) -> np.ndarray | None:
    """(products x products) how many distinct people did ``interaction`` to both products:
    :func:`recommend.paths.privacy.people`'s count of a co-act hop between them (a person
    with a nonzero stored edge to each), every pair at once, dense; None past
    :data:`TABLE_WIDTH` products or :data:`TABLE_TERMS` terms. Kept as the doers it counts
    (until those relations gain edges or a node is added)."""

    def compute() -> np.ndarray | None:
        if graph.num_nodes("product") > TABLE_WIDTH:  # (the doers' width: none made)
            return None
        doers = doers_matrix(graph, interaction).tocoo()
        did = doers.data != 0
        acted = sp.csr_matrix((np.ones(int(did.sum()), np.int64),
                               (doers.row[did], doers.col[did])), shape=doers.shape)
        acted.sum_duplicates()  # (a pair stored twice is one person's act)
        acted.data[:] = 1
        if int((np.diff(acted.indptr).astype(np.int64) ** 2).sum()) > TABLE_TERMS:
            return None
        counts = (acted.T @ acted).toarray()
        return counts.astype(np.min_scalar_type(counts.max(initial=0)))

    return graph.cached_for(("paths co-act table", interaction), interactions_of(interaction),
                            compute)


def keep_co_people(graph: KnowledgeGraph, interaction: str, pairs: list[tuple[str, str]],
                   a: np.ndarray, b: np.ndarray) -> None:
    """Keep :func:`recommend.paths.privacy.people`'s count over ``interaction`` of each of
    ``pairs`` (products, graph indices ``a`` and ``b``), read from :func:`co_table` at once
    (nothing kept when there is none): its later calls find them."""
    table = co_table(graph, interaction)
    if table is None or not pairs:
        return

    def read(fresh: list[int]) -> list[int]:
        at, to = a[fresh], b[fresh]
        ok = (at < table.shape[0]) & (to < table.shape[1])  # (a product past the doers: 0)
        found = np.zeros(len(fresh), np.int64)
        found[ok] = table[at[ok], to[ok]]
        return found.tolist()

    keep_fresh(people_counts(graph, interaction, False, interactions_of(interaction)), pairs,
               read)
