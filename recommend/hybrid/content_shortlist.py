"""Each user's nearest products by content, listed once per artifact load.

A request's content candidates are the ``n`` products of highest cosine to the user's
vector among those the user may get (:meth:`recommend.content.search.SearchedScores.top`):
one exact FAISS search over every product vector, ~1 ms on the size world's 18,000
products even through a float16 copy (:mod:`recommend.content.half`). The user vectors only
change with the graph, so at load :class:`Shortlists` searches for every user at once (one
batched FAISS search: BLAS) and keeps each user's ``depth`` nearest products with their
scores. A request then takes the ``n`` best allowed products of the user's list
(:meth:`Shortlists.top`). The list is scored in float64 (the true cosines of the stored
vectors, but for ~1e-16); the search's own float32 scores are not those bits (on the size
world 76% of the one-query scores of a product even differ between the whole index and a
small one), but each float32 score, the search's and the batch's, is within
``e = dim * 2^-24 * |q| * |x|`` of the true one (float32 summation over ``dim`` terms). So
the list's answer is the search's own when

- the ``n``-th allowed product of the list scores more than ``3e`` above ``line``, the best
  batch score past the list (every product left out then scores below it for the search
  too: at most ``line + 2e`` there, against at least the ``n``-th's true score minus ``e``);
- the user's vector and the index are the ones the list was made for (an update changes
  them);

but for a near tie at the ``n``-th place (the next allowed product of the list within
``2e`` of it): which of those the float32 search keeps is decided by its rounding, and the
list keeps the float64 order (the true one, but for ~1e-16; equal scores in the batch
search's order) without asking it. Asking it cost a whole exact search (~1.3 ms on the size
world) in a quarter of the requests of 300 users of the size world and of ML-100K; a
batch (the build's evaluation) never reads the lists. Otherwise the list answers None and
the request searches, as before. Only an exact (``flat``) index is listed (an approximate
one's answer is its own search's), and only up to :data:`MAX_CELLS` users x products (the
size world: 36 million, ~1 s of one core at load).

A product write appends to a copy of the index (:meth:`recommend.content.index.ContentIndex.add`):
:meth:`Shortlists.grown` keeps the lists for it, and a request scores the appended products
exactly on top (a few dot products) and merges them into the user's list: the argument above
holds as if they had been listed (each of them is scored in float64, as a listed one). Without
that, every request after one write searched the whole index (size world: request CPU p50 6.3
-> 10.9 ms after one write, 12.2 after 20).

>>> from recommend.content.index import ContentIndex
>>> rng = np.random.default_rng(0)
>>> idx = ContentIndex.build([f"p:{i}" for i in range(500)], rng.normal(size=(500, 8)))
>>> users = rng.normal(size=(3, 8)).astype(np.float32)
>>> lists = Shortlists.build(idx, users, np.full(3, 40))
>>> may = np.ones(500, bool)
>>> may[:100] = False
>>> exact = idx.search(users[1][None], 20, allowed=may[None]).indices[0]
>>> sorted(lists.top(1, users[1], may, 20).tolist()) == sorted(exact.tolist())
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from threadpoolctl import threadpool_limits

from recommend.content.half import float32_sum_error
from recommend.content.index import normalise_rows
from recommend.content.search import pair_dots

if TYPE_CHECKING:
    from recommend.content.index import ContentIndex

__all__ = ["BATCH", "MAX_CELLS", "TABLE_CELLS", "Shortlists", "listable"]

#: Users searched at once when listing (their scores: BATCH x products float32).
BATCH = 512
#: At most this many users x products are scored when listing (else no lists are made).
MAX_CELLS = 10**8
#: Up to this many users x products (16 MB of float64), every user's exact score of every
#: product is kept too (:attr:`Shortlists.table`): a request then computes none (ML-100K:
#: 943 x 1,682; its ~1,000 candidates' dot products were ~15% of a request's ranking); a
#: bigger catalogue keeps those of the ``common`` products only (the most seen, as many as
#: fit: :meth:`recommend.hybrid.content_component.ContentComponent.list_users`).
TABLE_CELLS = 1 << 21


def listable(index: ContentIndex, n_users: int) -> bool:
    """Whether :meth:`Shortlists.build` lists ``n_users`` over ``index``: an exact, non-empty
    index and at most :data:`MAX_CELLS` users x products."""
    return (index.params.get("kind") == "flat" and len(index) > 0
            and n_users * len(index) <= MAX_CELLS)


@dataclass(frozen=True)
class Shortlists:
    """Per user (graph index): the listed index positions, best first, their float64 scores,
    the best batch score past the list (``line``; -inf: every product is listed), the unit
    query vector the list was made for and ``e`` (module doc); and the listed products'
    exact scores as a request computes them (:func:`recommend.content.search.pair_dots` of
    the user's vector as given, ``users``), so that a request takes them from the list."""

    index: ContentIndex
    size: int
    positions: list[np.ndarray]
    scores: list[np.ndarray]
    lines: np.ndarray
    queries: np.ndarray
    margin: np.ndarray
    users: np.ndarray
    dots: list[np.ndarray]
    table: np.ndarray | None = None
    slots: np.ndarray | None = None
    #: the largest norm of the listed index's vectors (``e`` grows with it)
    largest: float = 1.0
    #: the vectors of the products appended to the index since the lists were made, at
    #: positions ``size`` on (:meth:`grown`), and how much ``e`` grows for them
    added: np.ndarray | None = None
    added_growth: float = 1.0

    @classmethod
    def build(cls, index: ContentIndex, users: np.ndarray, depth: np.ndarray,
              common: np.ndarray | None = None) -> Shortlists | None:
        """The lists of ``users`` (rows: their content vectors, float32) over ``index``,
        ``depth[u]`` products deep, with the :attr:`table` of every product (a small
        catalogue) or of the ``common`` index positions; None when not :func:`listable`.

        BLAS and OpenMP run on one thread meanwhile, as a request's do: on the size world
        (2,000 users, 18,000 products, load average ~11) the batched search took 1.3 s of
        CPU on two threads (each waiting on the other) and 0.39 s on one, for the same
        lists (every array equal)."""
        if not listable(index, len(users)):
            return None
        with threadpool_limits(limits=1):
            return cls._build(index, users, depth, common)

    @classmethod
    def _build(cls, index: ContentIndex, users: np.ndarray, depth: np.ndarray,
               common: np.ndarray | None) -> Shortlists:
        """:meth:`build`'s lists, on the threads the caller allows."""
        size = len(index)
        queries = normalise_rows(np.asarray(users, np.float32))
        deep = min(int(depth.max(initial=0)) + 1, size)
        found = np.zeros((len(queries), deep), np.int64)
        batch = np.zeros((len(queries), deep), np.float32)
        for a in range(0, len(queries), BATCH):
            batch[a:a + BATCH], found[a:a + BATCH] = index.index.search(queries[a:a + BATCH],
                                                                        deep)
        vectors = index.vectors()
        users = np.asarray(users, np.float32)
        tabled = (np.arange(size) if len(users) * size <= TABLE_CELLS
                  else None if common is None
                  else np.unique(common)[: TABLE_CELLS // max(len(users), 1)])
        table = slots = None
        if tabled is not None and len(tabled) and len(users):  # by slot; a position's slot
            wide = vectors[tabled].astype(np.float64)
            table = np.stack([pair_dots(row, wide) for row in users])
            slots = np.full(size, -1, np.int64)
            slots[tabled] = np.arange(len(tabled))
        # a table of every product holds the listed products' dots: read, not computed
        # again (a row's sum depends on its own values only: the same bits)
        whole = table if table is not None and table.shape[1] == size else None
        positions, scores, dots = [], [], []
        lines = np.full(len(queries), -np.inf)
        for u, q in enumerate(queries.astype(np.float64)):
            take = min(int(depth[u]), size)
            if take < size:  # the best batch score past the list
                lines[u] = float(batch[u, take])
            listed = found[u, :take]
            listed = listed[listed >= 0]
            listed64 = vectors[listed].astype(np.float64)
            exact = listed64 @ q
            order = np.argsort(-exact, kind="stable")
            mine = listed[order]
            positions.append(mine)
            scores.append(exact[order])
            # (a row's dot depends on that row only: computed in the search's order, then
            # reordered)
            dots.append(whole[u, mine] if whole is not None
                        else pair_dots(users[u], listed64)[order])
        largest = float(np.linalg.norm(vectors, axis=1).max(initial=0.0))
        # e (module doc), with room for the float64 sums and e's own rounding
        margin = float32_sum_error(queries.shape[1],
                                   np.linalg.norm(queries.astype(np.float64), axis=1), largest)
        return cls(index, size, positions, scores, lines, queries, margin, users, dots, table,
                   slots, largest)

    def grown(self, index: ContentIndex) -> Shortlists | None:
        """These lists for ``index``: the listed index with products appended (a copy that
        :meth:`~recommend.content.index.ContentIndex.add` grew), whose appended products a
        request scores on top; None when ``index`` does not begin with the listed products."""
        if (index.params.get("kind") != "flat" or len(index) < self.size
                or index.ids[: self.size] != self.index.ids[: self.size]):
            return None
        added = index.vectors_at(np.arange(self.size, len(index), dtype=np.int64))
        widest = float(np.linalg.norm(added, axis=1).max(initial=0.0))
        added = added.astype(np.float64)  # scored as listed ones are: float64
        slots = (None if self.slots is None
                 else np.concatenate([self.slots[: self.size],
                                      np.full(len(added), -1, np.int64)]))
        return replace(self, index=index, slots=slots, added=added if len(added) else None,
                       added_growth=max(1.0, widest / self.largest) if self.largest else 1.0)

    def table_row(self, u: int, query: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Per index position its slot in user ``u``'s :attr:`table` row (-1: none) and the
        row (exact scores as :func:`recommend.content.search.pair_dots` gives), or None: no
        table, or ``query`` is not the very vector it was made from."""
        if (self.table is None or self.slots is None or u >= len(self.table)
                or len(self.index) != len(self.slots)
                or not np.array_equal(np.asarray(query, np.float32), self.users[u])):
            return None
        return self.slots, self.table[u]

    def top(self, u: int, query: np.ndarray, allowed: np.ndarray, n: int
            ) -> np.ndarray | None:
        """The index positions (best first) of the ``n`` best ``allowed`` (over index
        positions) products for user ``u`` whose content vector is ``query``, or None when
        the list cannot tell them for sure (module doc). A near tie at the ``n``-th place
        goes by the list's float64 order."""
        found = self._found(u, query, allowed, n)
        return None if found is None else found[0]

    def scored(self, u: int, query: np.ndarray, allowed: np.ndarray, n: int
               ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """:meth:`top`'s positions and their exact scores (:attr:`dots`; None when ``query``
        is not the very vector they were computed from)."""
        same = u < len(self.users) and np.array_equal(np.asarray(query, np.float32),
                                                      self.users[u])
        found = self._found(u, query, allowed, n, same)
        if found is None:
            return None
        return found[0], found[1] if same else None

    def _found(self, u: int, query: np.ndarray, allowed: np.ndarray, n: int,
               same: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`top`'s products and their :attr:`dots` (meant only when ``same``: ``query``
        is the very vector listed, :attr:`users`, whose unit vector is then the listed one)."""
        grown = 0 if self.added is None else len(self.added)
        if u >= len(self.positions) or len(self.index) != self.size + grown:
            return None
        q = (self.queries[u] if same
             else normalise_rows(np.asarray(query, np.float32)[None, :])[0])
        if not q.any() or not np.array_equal(q, self.queries[u]):
            return None  # no profile (nothing to find), or not the vector listed
        if int(np.count_nonzero(allowed)) <= n:
            return None  # every allowed product: the search is plain
        positions, scores, dots = self.positions[u], self.scores[u], self.dots[u]
        margin = float(self.margin[u])
        if self.added is not None:  # the appended products, scored and merged in
            margin *= self.added_growth
            positions, scores, dots = self._merged(u, q, same, self.added,
                                                   self.lines[u] + 3 * margin)
        ok = np.flatnonzero(allowed[positions])
        if len(ok) < n:
            return None
        if not float(scores[ok[n - 1]]) > self.lines[u] + 3 * margin:
            return None  # a product past the list may score as much
        return positions[ok[:n]], dots[ok[:n]]

    def _merged(self, u: int, q: np.ndarray, same: bool, added: np.ndarray, floor: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """User ``u``'s list with those of the ``added`` products (:meth:`grown`) that score
        above ``floor`` (the others can never be picked: the ``n``-th picked must score
        above it), scored in float64 as listed ones are, best first (a tie: the listed
        product first, as in the index's order); their :attr:`dots` when ``same`` (else
        zeros: not used)."""
        extra = added @ q.astype(np.float64)
        above = np.flatnonzero(extra > floor)
        if not len(above):
            return self.positions[u], self.scores[u], self.dots[u]
        scores = np.concatenate([self.scores[u], extra[above]])
        order = np.argsort(-scores, kind="stable")
        positions = np.concatenate([self.positions[u], self.size + above])
        extra_dots = pair_dots(self.users[u], added[above]) if same else np.zeros(len(above))
        return positions[order], scores[order], np.concatenate([self.dots[u], extra_dots])[order]
