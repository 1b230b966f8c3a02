"""A dense matrix kept in blocks of rows that versions share (copy on write per block).

A write to a served model builds the next version beside it (:mod:`recommend.updates`) and
changes a few users' rows of per-user tables; copying a whole users x dim table for each
write costs O(users) (the 1M-event world's content vectors: 50k x 384, 77 MB, ~11 ms).
:meth:`RowBlocks.with_rows` instead returns a version that shares every block with this one
but those holding the changed rows, which it copies first: this version keeps its rows.
Blocks are read-only arrays, so no holder can change a version in place.
"""

from __future__ import annotations

import numpy as np

#: Rows per block (the 1M world's 384-dim float32 rows: 1.5 MB copied per changed block).
BLOCK = 1024


class RowBlocks:
    """An ``n x width`` matrix in read-only blocks of :data:`BLOCK` rows."""

    def __init__(self, blocks: list[np.ndarray], shape: tuple[int, int],
                 whole: np.ndarray | None, block: int) -> None:
        self._blocks, self.shape, self._whole, self._block = blocks, shape, whole, block
        self.dtype = whole.dtype if whole is not None else blocks[0].dtype

    @classmethod
    def of(cls, matrix: np.ndarray, block: int | None = None) -> RowBlocks:
        """``matrix`` (2-d; made read-only, not copied) as blocks of ``block`` rows
        (default :data:`BLOCK`)."""
        block = BLOCK if block is None else block
        if matrix.ndim != 2 or block < 1:
            raise ValueError(f"need a 2-d matrix and a positive block, got {matrix.shape}, "
                             f"{block}")
        matrix.flags.writeable = False
        blocks = [matrix[lo:lo + block] for lo in range(0, matrix.shape[0], block)]
        return cls(blocks, (int(matrix.shape[0]), int(matrix.shape[1])), matrix, block)

    @property
    def blocks(self) -> tuple[np.ndarray, ...]:
        """The blocks, in row order (a version shares the ones it did not change)."""
        return tuple(self._blocks)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """A copy of rows ``rows`` (each in ``[0, n)``), in that order."""
        rows = np.asarray(rows, np.int64)
        if self._whole is not None:
            return self._whole[rows]
        out = np.empty((len(rows), self.shape[1]), self.dtype)
        which = rows // self._block
        if len(rows) == 1:
            out[0] = self._blocks[int(which[0])][int(rows[0] - which[0] * self._block)]
            return out
        for b in np.unique(which).tolist():
            sel = which == b
            out[sel] = self._blocks[b][rows[sel] - b * self._block]
        return out

    def with_rows(self, rows: np.ndarray, values: np.ndarray) -> RowBlocks:
        """This matrix with rows ``rows`` set to ``values`` (one row each), as a new version
        sharing every block it does not change (this version is left as it is)."""
        rows = np.asarray(rows, np.int64)
        values = np.asarray(values)
        if values.shape != (len(rows), self.shape[1]):
            raise ValueError(f"values of shape {values.shape} for {len(rows)} rows of "
                             f"width {self.shape[1]}")
        if len(rows) and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"rows outside [0, {self.shape[0]})")
        blocks = list(self._blocks)
        which = rows // self._block
        for b in np.unique(which).tolist():
            sel = which == b
            copied = blocks[b].copy()
            copied[rows[sel] - b * self._block] = values[sel]
            copied.flags.writeable = False
            blocks[b] = copied
        return RowBlocks(blocks, self.shape, None if len(rows) else self._whole, self._block)

    def dense(self) -> np.ndarray:
        """The whole matrix, read-only (made once per version when a block was replaced)."""
        if self._whole is None:
            whole = (np.concatenate(self._blocks) if self._blocks
                     else np.empty(self.shape, self.dtype))
            whole.flags.writeable = False
            self._whole = whole  # a benign race: two readers may both make it
        return self._whole
