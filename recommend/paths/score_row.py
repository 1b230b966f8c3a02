"""One user's graph score row: every weighted meta-path walked from the user and added in turn.

:meth:`recommend.paths.scorer.GraphPathScorer.score_dense` adds, for each weighted meta-path
in order, ``weight`` times its walked row into a dense row of products (:func:`add_paths`).
Meta-paths that end in the same step whose every column holds one entry and whose rows are
each one value (the category meta-paths all end in ``in_category`` followed in, row
normalised: a category's products share ``1 / its size``) add the same value to every
product of a category: ``(v[c] * d[c]) * w`` for category c, reached with ``v[c]``. Their
sums are then made per category (44 values on the size world) and spread over the products
once, where each took a pass over the 18,000 products of its own (:func:`walk_into`). A
product that another meta-path also reaches (a post's product, a segment's) gets its terms
added again in the meta-paths' order, so every product's sum is the same floats in the
same order as adding each meta-path's row in turn. Only when two or more of them would pass
over the columns (:func:`_worth_spreading`; a user reaching a few small categories walks
them, and the 1M world's 100,000-product spread cost more than those walks).

>>> import scipy.sparse as sp
>>> last = sp.csr_matrix(np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]]))
>>> user = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
>>> one = sp.csr_matrix(np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]))
>>> row = np.zeros(3)
>>> add_paths([([user, last], 1.0), ([one], 0.5), ([user, last], 2.0)], 0, row)
>>> row.tolist()
[1.5, 1.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from recommend.paths.instances import reach_state
from recommend.paths.last_step import (
    by_columns,
    columns_exact,
    row_owners,
    walk_into,
    walk_last,
)
from recommend.paths.listed_walks import listed_last
from recommend.paths.walks import WalkState, walk_on, walk_start

__all__ = ["add_paths"]

#: A weighted meta-path: its step matrices and its weight.
Weighted = tuple[Sequence[sp.csr_matrix], float]
#: One meta-path's addition: ``row[idx] += add``, or a category level one (``("rows", add)``:
#: spread by the shared step's row owners).
Term = tuple[np.ndarray, np.ndarray] | tuple[str, np.ndarray]


def add_paths(paths: Sequence[Weighted], user: int, row: np.ndarray) -> None:
    """Add each of ``paths`` walked from ``user`` (weight times its row) into ``row`` (zeros,
    one value per product), in turn: the floats of :func:`walk_into` for each (module
    doc)."""
    shared = _shared_last(paths)
    # per path: its listed walk to the end (or the 1-step row), else its walk to the last step
    walked = [walk_start(steps[0], user) if len(steps) == 1 else listed_last(steps, user)
              for steps, _ in paths]
    states = [None if done is not None else _state(steps, user)
              for (steps, _), done in zip(paths, walked, strict=True)]
    if shared is None or not _worth_spreading(paths, states, shared):
        for (steps, w), done, state in zip(paths, walked, states, strict=True):
            if done is not None:
                row[done[0]] += w * done[1]
            else:
                walk_into(state, steps[-1], row, w)  # type: ignore[arg-type]
        return
    owner, value = row_owners(shared)  # type: ignore[misc]
    terms: list[Term] = []
    for (steps, w), done, state in zip(paths, walked, states, strict=True):
        if done is not None:  # (a 1-step row, or made at load: the request's own walk)
            terms.append((done[0], w * done[1]))
        elif steps[-1] is shared and columns_exact(state, w):  # type: ignore[arg-type]
            v = np.zeros(len(value))
            if len(state[0]):  # type: ignore[index]
                v[state[0]] = state[1]  # type: ignore[index]
            add = v * value
            add *= w
            terms.append(("rows", add))
        else:  # (walked: not by the columns, _worth_spreading saw to it)
            idx, val, _ = walk_last(state, steps[-1])  # type: ignore[arg-type]
            terms.append((idx, w * val))
    _spread(terms, owner, row)


def _worth_spreading(paths: Sequence[Weighted], states: Sequence[WalkState | None],
                     shared: sp.csr_matrix) -> bool:
    """Whether two or more of ``paths`` ending in ``shared`` would each pass over its columns
    (:func:`walk_into`), and no other path over another step's: then the shared step is
    spread once; else each path is walked as before (a user who reaches few categories
    walks them, cheaper than spreading over every product)."""
    passes = 0
    for (steps, w), state in zip(paths, states, strict=True):
        if state is None or not by_columns(state, steps[-1]):
            continue
        if steps[-1] is not shared:
            return False
        passes += columns_exact(state, w)
    return passes >= 2


def _state(steps: Sequence[sp.csr_matrix], user: int) -> WalkState:
    """The user's walk up to a meta-path's last step (of a 3-step one, the remembered middle
    layer, :func:`recommend.paths.instances.reach_state`, which explaining reuses)."""
    return (reach_state(steps, user) if len(steps) == 3
            else walk_on(walk_start(steps[0], user), steps[1:-1]))


def _shared_last(paths: Sequence[Weighted]) -> sp.csr_matrix | None:
    """The last step that two or more of ``paths`` (of 2 steps or more) end in, with one
    entry per column and one value per row (:func:`row_owners`); None when none does."""
    seen: dict[int, int] = {}
    for steps, _ in paths:
        if len(steps) > 1:
            seen[id(steps[-1])] = seen.get(id(steps[-1]), 0) + 1
    for steps, _ in paths:
        if len(steps) > 1 and seen[id(steps[-1])] > 1 and row_owners(steps[-1]) is not None:
            return steps[-1]
    return None


def _spread(terms: Sequence[Term], owner: np.ndarray, row: np.ndarray) -> None:
    """Add ``terms`` in turn into ``row`` (zeros): the category level ones summed per
    category and spread once, the products other terms reach summed again in order."""
    sums = None  # the category level terms' sums, from 0.0 as the row's
    for idx, add in terms:
        if isinstance(idx, str):
            sums = (np.zeros(len(add)) if sums is None else sums) + add
    if sums is not None:
        np.take(sums, owner, out=row)
    reached = [idx for idx, _ in terms if not isinstance(idx, str)]
    if not reached:
        return
    at = np.concatenate(reached) if len(reached) > 1 else reached[0].copy()
    at.sort()
    at = at[np.concatenate(([True], at[1:] != at[:-1]))] if len(at) > 1 else at  # distinct
    here = owner[at]
    own = np.zeros(len(at))
    for idx, add in terms:
        if isinstance(idx, str):
            own += add[here]
        else:
            own[at.searchsorted(idx)] += add
    row[at] = own
