"""A batch's content scores found by FAISS search: candidates first, exact scores after.

The hybrid's candidate step (:mod:`recommend.hybrid.candidates`) asks each component for its
top N allowed products per user. The content component answers by searching its FAISS index
(``IndexFlatIP``, exact, below the index's size threshold; IVF or HNSW at the recall it was
calibrated to above it) rather than multiplying every user vector by every product vector;
one user's search (a request) reads the index's float16 copy first and gets the same
products (:mod:`recommend.content.half`).
Only the candidates, its own and those the other components proposed, are then scored
exactly: one dot product each, in float64. Products that are not in the index (no text) get
0, as in the dense scores (:meth:`recommend.hybrid.content_component.ContentComponent.scores`).

>>> import numpy as np
>>> from recommend.content.index import ContentIndex
>>> idx = ContentIndex.build(["p:a", "p:b", "p:c"], np.array([[1.0, 0], [0.8, 0.6], [0, 1.0]]))
>>> s = SearchedScores(idx, np.array([[1.0, 0]], np.float32), idx.vectors(),
...                    np.array([0, 1, 2]), np.array([2, 1]))
>>> s.top(np.array([[True, True]]), 1).tolist(), s.at(np.array([0]), np.array([1])).round(4)
([[False, True]], array([0.8]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from recommend.content.half import half_search

if TYPE_CHECKING:
    from recommend.content.index import ContentIndex

__all__ = ["PAIRS_AT_ONCE", "SearchedScores", "pair_dots"]

#: Pairs :meth:`SearchedScores.at` scores at a time (two 8192 x 384 float64 blocks: 50 MB).
PAIRS_AT_ONCE = 8192


@dataclass(frozen=True)
class SearchedScores:
    """Content scores of a batch of users over some products, by search (module doc).

    ``users`` (rows x dim) are the users' unit vectors (a zero row: no content profile, no
    candidates); ``item_vectors`` (products x dim) the product vectors by product index
    (zero rows for products outside the index) and ``position`` each product's row in
    ``index`` (-1: not indexed). ``columns`` are the product indices the batch ranks:
    :meth:`top` and :meth:`at` speak of positions in it. ``in_order``: every product is
    indexed, at its own index (``position`` is the identity), so a batch ranking every
    product has columns, products and index rows alike. ``shortlist`` (one user): given
    the allowed index rows and ``n``, the exact search's index rows found without
    searching, or None (:mod:`recommend.hybrid.content_shortlist`).
    """

    index: ContentIndex
    users: np.ndarray
    item_vectors: np.ndarray
    position: np.ndarray
    columns: np.ndarray
    in_order: bool = False
    shortlist: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray | None] | None] | None \
        = None
    #: one user's exact scores of some indexed products, made at load: each index
    #: position's slot (-1: none) and the scores by slot
    #: (:meth:`recommend.hybrid.content_shortlist.Shortlists.table_row`), or None
    row: tuple[np.ndarray, np.ndarray] | None = None
    #: one user's scored columns: (whether scored, the score) per column (:meth:`at`)
    _kept: list[np.ndarray] = field(default_factory=list, init=False, repr=False,
                                    compare=False)

    def top(self, allowed: np.ndarray, n: int) -> np.ndarray:
        """(rows x columns) mask: each row's ``n`` best ``allowed`` columns whose score is not 0.

        One FAISS search over the index, with each row's disallowed products ruled out.
        """
        n_rows, n_cols = allowed.shape
        chosen = np.zeros((n_rows, n_cols), bool)
        # every product ranked, each at its own index row: columns are index rows
        direct = self.in_order and n_cols == len(self.index)
        if direct:
            may = allowed
        else:
            pos = self.position[self.columns]
            indexed = np.flatnonzero(pos >= 0)
            if n_rows == 0 or len(indexed) == 0 or len(self.index) == 0:
                return chosen
            may = np.zeros((n_rows, len(self.index)), bool)
            may[:, pos[indexed]] = allowed[:, indexed]
        if n_rows == 0 or len(self.index) == 0 or not self.users.any():
            return chosen  # (no user with a profile: a search would find only zero scores)
        # one user (a request): their list made at load, else through the index's
        # half-precision copy: the same products
        listed = None if n_rows != 1 or self.shortlist is None else self.shortlist(may[0], n)
        half = None if listed is None else listed[0]
        if half is None and n_rows == 1:
            half = half_search(self.index, self.users[0], n, may[0])
        found = (half[None, :] if half is not None
                 else self.index.search(self.users, min(n, len(self.index)), allowed=may).indices)
        rows, slots = np.nonzero(found >= 0)
        if direct:
            cols = found[rows, slots]
        else:
            column_of = np.full(len(self.index), -1, np.int64)
            column_of[pos[indexed]] = indexed
            cols = column_of[found[rows, slots]]
        if listed is not None and listed[1] is not None:  # the list's scores, as at() makes
            self._keep(cols, listed[1])
        score = self.at(rows, cols)
        ok = (score != 0) & np.isfinite(score)
        chosen[rows[ok], cols[ok]] = True
        return chosen

    def at(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """The exact scores of pairs (batch row ``rows[j]``, column ``columns[j]``), taken
        :data:`PAIRS_AT_ONCE` at a time: a build's batch of 256 users has some 300,000
        candidates, whose gathered float64 vectors at 384 dims took 1.8 GB at once.

        One user (a request): each column is scored once and kept, so the candidate step's
        call finds the scores :meth:`top` made of the search's own products (a pair's dot
        product is the same whatever else its call scores)."""
        if len(self.users) != 1:
            return self._dots(rows, columns)
        known, values = self._kept_arrays()
        new = np.flatnonzero(~known[columns])
        if len(new) and self.row is not None:  # read from the load's table where it holds
            slots, row = self.row
            pos = self.position[self.columns[columns[new]]]
            slot = np.where(pos >= 0, slots[np.maximum(pos, 0)], -1)
            listed = slot >= 0
            values[columns[new[listed]]] = row[slot[listed]]
            known[columns[new[listed]]] = True
            new = new[~listed]
        if len(new):
            values[columns[new]] = self._dots(rows[new], columns[new])
            known[columns[new]] = True
        return values[columns]

    def _kept_arrays(self) -> list[np.ndarray]:
        """One user's (whether scored, the score) per column, made at the first use."""
        if not self._kept:
            self._kept.append(np.zeros(len(self.columns), bool))
            self._kept.append(np.empty(len(self.columns)))
        return self._kept

    def _keep(self, columns: np.ndarray, scores: np.ndarray) -> None:
        """Keep one user's exact ``scores`` of ``columns`` (-1: none), computed elsewhere."""
        known, values = self._kept_arrays()
        ok = columns >= 0
        values[columns[ok]] = scores[ok]
        known[columns[ok]] = True

    def _dots(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """:meth:`at`'s scores, computed."""
        out = np.empty(len(rows))
        users = self.users.astype(np.float64)
        for a in range(0, len(rows), PAIRS_AT_ONCE):
            r, c = rows[a:a + PAIRS_AT_ONCE], columns[a:a + PAIRS_AT_ONCE]
            v = self.item_vectors[self.columns[c]]
            out[a:a + len(r)] = (pair_dots(self.users[0], v) if len(users) == 1
                                 else np.einsum("ij,ij->i", users[r], v.astype(np.float64)))
        return out


def pair_dots(user: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The exact (float64) score of one user's vector with each row of ``vectors``: the
    float32 values widened and summed by einsum, row by row (a row's sum depends only on its
    own values, so the lists made at load (:mod:`recommend.hybrid.content_shortlist`) and a
    request get the same bits). The user's row is a broadcast view, not a copy per pair."""
    v = np.asarray(vectors, np.float64)
    return np.einsum("ij,ij->i", np.broadcast_to(np.asarray(user, np.float64), v.shape), v)
