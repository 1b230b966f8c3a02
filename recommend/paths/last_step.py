"""A meta-path's last step added into a dense score row: ``row += weight * (state @ m)``.

:meth:`recommend.paths.scorer.GraphPathScorer.score_dense` walks each meta-path from the
user (:func:`recommend.paths.metapaths.walk_on`) and adds ``weight`` times the walked row
where it reached. When every column of the last step's matrix holds at most one entry (each
product in one category: ``in_category`` followed in), each product the step reaches is one
product of two floats, ``v[r] * m[r, c]`` (no sum whose order matters), so a step that
reaches many products is one pass over the columns, ``weight * (v[owner] * data)``: the same
floats where it reaches and an added zero elsewhere (a user's categories reach ~1,300 of the
size world's 18,000 products: ~25 us, where the walk and its scatter took ~65 us).

>>> import scipy.sparse as sp
>>> m = sp.csr_matrix(np.array([[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]))
>>> row = np.zeros(3)
>>> walk_into((np.array([0, 1]), np.array([0.25, 0.75]), 2), m, row, 2.0)
>>> row.tolist()
[0.25, 1.5, 0.25]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommend.paths.instances import Memo
from recommend.paths.metapaths import WalkState, walk_on

__all__ = ["single_columns", "walk_into"]

#: Per step matrix (by identity): its column owners (:func:`single_columns`); the scorers'
#: last steps, a few dozen.
_owners = Memo(64)


def single_columns(m: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray] | None:
    """Per column of ``m``, the row of its one entry (0 where it has none) and the entry
    (0.0 where none); None when a column holds two or more, or an entry is not finite."""

    def make() -> tuple[np.ndarray, np.ndarray] | None:
        counts = np.bincount(m.indices, minlength=m.shape[1])
        if (counts > 1).any() or not np.isfinite(m.data).all():
            return None
        owner = np.zeros(m.shape[1], np.int64)
        data = np.zeros(m.shape[1])
        owner[m.indices] = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        data[m.indices] = m.data
        return owner, data

    return _owners(m, None, make)


def walk_into(state: WalkState, m: sp.csr_matrix, row: np.ndarray, weight: float) -> None:
    """Add ``weight`` times ``state``'s row walked through ``m`` into ``row`` (dense, one
    value per column of ``m``): the floats of ``row[idx] += weight * val`` for the walked
    ``(idx, val)``, by one pass over the columns when ``m`` has one entry per column and the
    walk would touch many of them (module doc)."""
    idx, val, _ = state
    cols = single_columns(m) if len(idx) else None
    if (cols is not None and np.isfinite(weight) and np.isfinite(val).all()
            and (len(idx) == 1 or bool((np.diff(idx) > 0).all()))  # distinct rows
            and _columns_cheaper(int((m.indptr[idx + 1] - m.indptr[idx]).sum()), m.shape)):
        owner, data = cols
        v = np.zeros(m.shape[0])
        v[idx] = val
        add = v[owner]
        add *= data
        add *= weight
        row += add
        return
    idx, val, _ = walk_on(state, [m])
    row[idx] += weight * val


def _columns_cheaper(entries: int, shape: tuple[int, int]) -> bool:
    """Whether one pass over the columns (~1.4 ns per row and column) beats walking
    ``entries`` entries (~30 us, and ~25 ns each: its gathers, sums and scatter)."""
    return 16 * (entries + 1024) > shape[0] + shape[1]
