"""Item × item models kept as CSR with only each row's K strongest entries.

A model scored as ``history @ S`` reads, for each item in the history, its row of ``S``:
keeping the K largest entries per row makes the artifact grow like n × K and a request
touch only ``len(history) × K`` entries. Rows are produced block by block
(:func:`prune_blocks`), so the dense memory at any time is one block of rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

#: Dense entries in one block of rows (float64: 32 MB, plus the same again for the sort).
BLOCK_ENTRIES = 1 << 22


def block_size(n_cols: int, entries: int | None = None) -> int:
    """Rows per block so that one dense block holds about ``entries`` (default
    :data:`BLOCK_ENTRIES`) values."""
    return max(1, (BLOCK_ENTRIES if entries is None else entries) // max(n_cols, 1))


def top_k_rows(block: np.ndarray, k: int, *, magnitude: bool = False) -> sp.csr_matrix:
    """CSR holding the ``k`` largest entries of each row (by value, or by ``|value|``).

    Zero entries are never stored, so a row keeps fewer than ``k`` when it has fewer
    non-zeros. Ties at the cut are broken arbitrarily.
    """
    n, m = block.shape
    k = min(k, m)
    if k <= 0:
        return sp.csr_matrix((n, m), dtype=block.dtype)
    key = np.abs(block) if magnitude else block
    if k < m:
        cols = np.argpartition(-key, k - 1, axis=1)[:, :k]
    else:
        cols = np.broadcast_to(np.arange(m), (n, m))
    vals = np.take_along_axis(block, cols, axis=1)
    keep = vals != 0
    indptr = np.r_[0, np.cumsum(keep.sum(axis=1))]
    out = sp.csr_matrix((vals[keep], cols[keep], indptr), shape=(n, m))
    out.sort_indices()
    return out


def prune_blocks(
    n_rows: int,
    n_cols: int,
    rows_of: Callable[[int, int], np.ndarray],
    k: int,
    *,
    magnitude: bool = False,
    dtype: type = np.float32,
) -> sp.csr_matrix:
    """Stack :func:`top_k_rows` of ``rows_of(lo, hi)`` (dense rows lo..hi) over all rows."""
    step = block_size(n_cols)
    parts = [
        top_k_rows(rows_of(lo, min(lo + step, n_rows)), k, magnitude=magnitude).astype(dtype)
        for lo in range(0, n_rows, step)
    ]
    if not parts:
        return sp.csr_matrix((0, n_cols), dtype=dtype)
    out = sp.vstack(parts, format="csr")
    out.sort_indices()
    return out
