"""Candidates: the union of each component's top N allowed products, with every score.

A component's scores for a batch (its ``candidates``, :mod:`recommend.hybrid.component`) are
either a dense (rows x items) array or a :class:`Proposer` that finds its own top N (the
content component searches its FAISS index: :class:`recommend.content.search.SearchedScores`)
and scores the chosen pairs only.

Scores often tie: a meta-path through a shared category gives every product of that category
the same value, so "the top N" of a component would be an arbitrary N of thousands (on Ciao
the pool held 20% of the validation items where the sizing, which ranked a tied item at the
best place of its tie, counted 43% in it).
``prior`` (one value per item, e.g. how many people engaged with it) orders each tie, the
higher first: :func:`tie_broken`; what still ties (the same score and prior) is taken lowest
item index first (:func:`top_positions`), not as a selection algorithm happens to leave it.

>>> import numpy as np
>>> c = gather({"a": np.array([[3.0, 1.0, 0.0]]), "b": np.array([[0.0, 0.0, 5.0]])},
...            np.ones((1, 3), bool), n=1)
>>> c.items.tolist(), c.features.tolist()
([0, 2], [[3.0, 0.0], [0.0, 5.0]])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp


class Proposer(Protocol):
    """Scores that propose their own top N instead of being computed for every item."""

    def top(self, allowed: np.ndarray, n: int) -> np.ndarray:
        """(rows x items) mask of each row's ``n`` best allowed items with a non-zero score."""
        ...

    def at(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The scores of the pairs (``rows[j]``, ``items[j]``)."""
        ...


class RowOrder:
    """One row of scores' items with evidence (non-zero, finite), best first by
    :func:`tie_broken` under a prior, tied ones lowest index first: made once, kept while
    the next call brings the same row (the same array) and the same prior (the same array,
    as a model's is: replaced, never changed in place; else an equal one). Shared by
    requests on all threads (one reference, replaced whole)."""

    def __init__(self) -> None:
        self._kept: tuple[np.ndarray, np.ndarray | None, np.ndarray] | None = None

    def __call__(self, values: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
        """The ordered item indices of ``values`` (1-D) under ``prior`` (per item, or None)."""
        kept = self._kept
        if (kept is not None and kept[0] is values
                and (prior is None if kept[1] is None
                     else prior is not None and (kept[1] is prior
                                                 or np.array_equal(kept[1], prior)))):
            return kept[2]
        ok = np.flatnonzero((values != 0) & np.isfinite(values))
        v = values[ok]
        keyed = v if prior is None else v + np.abs(v) * _bump(prior)[ok]
        order = ok[np.argsort(-keyed, kind="stable")]
        self._kept = (values, prior, order)
        return order


@dataclass(frozen=True)
class SharedRow:
    """Scores every row of a batch shares (popularity: the same for everyone) over all the
    items: a row's top N is the first N allowed items of one order made once per load
    (:class:`RowOrder`), not a selection over every item per request."""

    values: np.ndarray
    n_rows: int
    order: RowOrder

    def top(self, allowed: np.ndarray, n: int, prior: np.ndarray | None = None) -> np.ndarray:
        """(rows x items) mask of each row's ``n`` best allowed items with a non-zero score,
        ties broken by ``prior`` (:func:`tie_broken`), then lowest index: the set
        :func:`_top_each` selects from the dense rows."""
        chosen = np.zeros(allowed.shape, bool)
        order = self.order(self.values, prior)
        for r in range(allowed.shape[0]):
            chosen[r, _first_allowed(order, allowed[r], n)] = True
        return chosen

    def at(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The scores of the pairs (``rows[j]``, ``items[j]``): the row's at ``items``."""
        return self.values[items]


@dataclass(frozen=True)
class ColumnRow:
    """One row of scores given at some items only (``columns``: sorted, distinct; every
    other item scores 0), with ``column_of`` (per item, its place in ``values``; -1:
    none): a cf model's block over the products it was fitted on, not scattered into a
    row over the whole catalogue. Its top N and scores are those of that dense row."""

    values: np.ndarray
    columns: np.ndarray
    column_of: np.ndarray

    def top(self, allowed: np.ndarray, n: int, prior: np.ndarray | None = None) -> np.ndarray:
        """(1 x items) mask of the ``n`` best allowed items with a non-zero score, ties
        broken by ``prior`` (:func:`tie_broken`), then lowest index: the set
        :func:`_top_each` selects from the dense row (its items in the same order)."""
        chosen = np.zeros(allowed.shape, bool)
        v = self.values
        valid = allowed[0, self.columns] & (v != 0) & np.isfinite(v)
        if np.count_nonzero(valid) <= n:
            chosen[0, self.columns[valid]] = True
            return chosen
        at = np.flatnonzero(valid)
        w, items = v[at], self.columns[at]
        if prior is not None:
            w = w + np.abs(w) * _bump(prior)[items]
        chosen[0, items[top_positions(w, n)]] = True
        return chosen

    def at(self, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The scores of the pairs (``rows[j]``, ``items[j]``): 0 where it has none."""
        col = self.column_of[items]
        return np.where(col >= 0, self.values[col], 0.0)


def _first_allowed(order: np.ndarray, allowed: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` items of ``order`` that ``allowed`` (per item) lets through, read from
    a prefix long enough for most rows (a user's seen products are few), longer when not."""
    head = 2 * n + 64
    while True:
        part = order[:head]
        ok = part[allowed[part]]
        if len(ok) >= n or head >= len(order):
            return ok[:n]
        head *= 4


Scores = np.ndarray | Proposer | SharedRow | ColumnRow


@dataclass(frozen=True)
class Candidates:
    """Candidate (row, item) pairs sorted by row then item, and their raw component scores.

    ``rows[j]`` is the position of the user in the batch, ``items[j]`` a product index and
    ``features[j, c]`` the score of component ``names[c]`` (0 = no evidence). ``pool[j]``
    says the candidate is one of the row's own (a component's top N among what the row
    may get); the others were added to be scored (a filter's, an explained item) and must
    not change how the pool is normalised.
    """

    rows: np.ndarray
    items: np.ndarray
    features: np.ndarray
    names: tuple[str, ...]
    n_rows: int
    pool: np.ndarray

    def row_slices(self) -> np.ndarray:
        """``starts`` such that row r's candidates are ``starts[r]:starts[r+1]``."""
        return np.searchsorted(self.rows, np.arange(self.n_rows + 1))


def take_columns(block: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``block[:, columns]`` for the sorted distinct ``columns`` a batch ranks
    (:meth:`recommend.hybrid.model.HybridModel.rank`): ``block`` itself when they are all
    of its columns (as many as it has), with no gathered copy."""
    # (np.take: the same gather as block[:, columns], 1.5-3x faster on a request's row)
    return block if len(columns) == block.shape[1] else np.take(block, columns, axis=1)


def seen_prior(seen: sp.spmatrix) -> np.ndarray:
    """Per product, log(1 + how many people saw it) in the users x products ``seen``
    matrix: the prior that orders tied scores (:func:`tie_broken`)."""
    counts = np.bincount(sp.csr_matrix(seen).indices, minlength=seen.shape[1])
    return np.log1p(counts.astype(np.float64))


def tie_broken(s: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    """``s`` (rows x items) with each score moved up by at most a relative 1e-9 in the order
    of ``prior`` (per item, >= 0): equal scores then rank the higher prior first, and no two
    scores further apart than that swap. ``s`` itself when ``prior`` is None.

    >>> tie_broken(np.array([[2.0, 2.0, 3.0]]), np.array([0.0, 5.0, 0.0])).argsort()[0].tolist()
    [0, 1, 2]
    """
    return s if prior is None else s + np.abs(s) * _bump(prior)


def _bump(prior: np.ndarray) -> np.ndarray:
    """:func:`tie_broken`'s relative move of each item, from ``prior``; the last prior's kept
    while the next call brings the same array (a model's prior is replaced, never changed
    in place: :meth:`recommend.hybrid.model.HybridModel.refresh_seen`)."""
    kept = _last_bump[0]  # (one tuple, replaced whole: threads read a consistent pair)
    if kept is not None and kept[0] is prior:
        return kept[1]
    bump = 1e-9 * (prior / (1.0 + float(prior.max(initial=0.0))))
    _last_bump[0] = (prior, bump)
    return bump


#: :func:`_bump`'s last (prior, bump).
_last_bump: list[tuple[np.ndarray, np.ndarray] | None] = [None]


def gather(scores: Mapping[str, Scores], allowed: np.ndarray, n: int | Sequence[int],
           force: np.ndarray | None = None, extra: np.ndarray | None = None,
           prior: np.ndarray | None = None) -> Candidates:
    """Union of each component's top ``n`` allowed items with a non-zero score, per row.

    ``n``: one size for every component, or one per component in the order of ``scores``
    (its quota: :mod:`recommend.hybrid.quotas`).
    ``scores[name]`` and ``allowed`` are (n_rows, n_items); the candidates' features hold
    every component's score, also for items another component proposed. Outside the pool
    (``Candidates.pool`` False): ``force[r]`` (an item index, -1 for none) joins row r's
    candidates whatever its scores (for explaining), and so does each component's top
    ``n`` among ``extra`` (rows x items, for a filter). ``prior`` (per item) breaks a
    component's ties at the edge of its top ``n`` (:func:`tie_broken`); the features keep
    the raw scores.
    """
    names = tuple(scores)
    n_rows = allowed.shape[0]
    pooled = _top_each(scores, allowed, n, prior)
    chosen = pooled.copy()
    if extra is not None:
        chosen |= _top_each(scores, extra, n, prior)
    if force is not None:
        ok = force >= 0
        chosen[np.flatnonzero(ok), force[ok]] = True
    if n_rows == 1:  # (a request) np.nonzero of one row, ~8x cheaper
        items = np.flatnonzero(chosen[0])
        rows = np.zeros(len(items), np.int64)
    else:
        rows, items = np.nonzero(chosen)
    feats = (np.stack([_finite(_at(scores[k], rows, items, n_rows)) for k in names], axis=1)
             if names else np.zeros((len(rows), 0)))
    return Candidates(rows, items, feats, names, n_rows, _at(pooled, rows, items, n_rows))


def _at(s: Scores, rows: np.ndarray, items: np.ndarray, n_rows: int) -> np.ndarray:
    """The scores of the pairs (``rows[j]``, ``items[j]``); of one row, a 1-D gather."""
    if not isinstance(s, np.ndarray):
        return s.at(rows, items)
    return s[0][items] if n_rows == 1 else s[rows, items]


def _finite(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)`` (``x``: a fresh float array), without its copy and checks when
    every value is finite already."""
    return x if np.isfinite(x).all() else np.nan_to_num(x)


def _top_each(scores: Mapping[str, Scores], allowed: np.ndarray, n: int | Sequence[int],
              prior: np.ndarray | None = None) -> np.ndarray:
    """(rows x items) mask of each component's top ``n`` (one size, or one per component)
    allowed items with evidence, ties broken by ``prior`` (:func:`tie_broken`)."""
    n_rows, n_items = allowed.shape
    chosen = np.zeros((n_rows, n_items), bool)
    sizes = [n] * len(scores) if isinstance(n, int | np.integer) else list(n)
    if len(sizes) != len(scores):
        raise ValueError(f"{len(sizes)} candidate sizes for {len(scores)} components")
    bump = None  # tie_broken's move of each item, made once (when asked)
    for s, size in zip(scores.values(), sizes, strict=True):
        take = min(int(size), n_items)
        if isinstance(s, SharedRow | ColumnRow):
            chosen |= s.top(allowed, take, prior)
            continue
        if not isinstance(s, np.ndarray):
            chosen |= s.top(allowed, take)
            continue
        valid = allowed & (s != 0) & np.isfinite(s)
        # (sparse scores) all of them; one row (a request) counted whole, ~7x cheaper
        if (np.count_nonzero(valid) <= take if n_rows == 1
                else (np.count_nonzero(valid, axis=1) <= take).all()):
            chosen |= valid
            continue
        if prior is not None and bump is None:
            bump = _bump(prior)
        for r in range(n_rows):  # among the row's valid items only (their order kept)
            at = np.flatnonzero(valid[r])
            v = s[r, at]
            chosen[r, at[top_positions(v if bump is None else v + np.abs(v) * bump[at],
                                       take)]] = True
    return chosen


#: :func:`top_positions` draws its line from a strided sample of about this many times the
#: values it keeps.
SAMPLE_TIMES = 4


def top_positions(values: np.ndarray, take: int) -> np.ndarray:
    """Positions (in no set order) of the ``take`` largest of ``values`` (1-D, no NaN; -inf:
    never kept, so fewer when fewer are finite); of values tied at the edge, the lowest
    positions.

    A line drawn from a strided sample leaves some 2 x ``take`` values at or above it, and
    only those are partitioned: ~30 us over a request's 18,000 products, where
    ``np.argpartition`` over them all took ~200 us (and left ties as its selection
    happened to).

    >>> sorted(top_positions(np.array([3.0, 9.0, -np.inf, 7.0, 1.0]), 2).tolist())
    [1, 3]
    >>> sorted(top_positions(np.array([3.0, 9.0, 3.0, 3.0]), 2).tolist())
    [0, 1]
    >>> top_positions(np.array([-np.inf, 2.0]), 5).tolist()
    [1]
    """
    n = len(values)
    step = max(1, n // (SAMPLE_TIMES * (take + 1)))
    near = None
    if step > 1:
        sample = values[::step]
        sample = sample[sample > -np.inf]  # (selecting among many equal values is slow)
        j = -(-2 * (take + 1) // step) + 8  # the sample's j-th largest: ~2 x (take + 1) above
        if j <= len(sample):
            near = (values >= np.partition(sample, len(sample) - j)[len(sample) - j]
                    ).nonzero()[0]
    if near is None or len(near) <= take:  # few finite values, or the line was drawn too high
        near = (values > -np.inf).nonzero()[0]
    if len(near) <= take:
        return near
    w = values[near]
    edge = np.partition(w, len(w) - take)[len(w) - take]  # the take-th largest
    kept = w >= edge
    if np.count_nonzero(kept) == take:  # (no tie past the edge: all of them)
        return near[kept]
    above = near[w > edge]
    return np.concatenate([above, near[w == edge][: take - len(above)]])
