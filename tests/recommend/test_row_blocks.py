"""RowBlocks: versions share the blocks they do not change; reads equal a plain matrix."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.hybrid.row_blocks import RowBlocks


def matrix(n: int = 23, width: int = 5) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, width)).astype(np.float32)


def test_a_new_version_copies_only_the_changed_blocks_and_leaves_the_old_one() -> None:
    plain = matrix()
    old = RowBlocks.of(plain.copy(), block=4)
    rows, values = np.array([1, 2, 17]), np.ones((3, 5), np.float32)
    new = old.with_rows(rows, values)
    assert np.array_equal(old.dense(), plain)
    want = plain.copy()
    want[rows] = values
    assert np.array_equal(new.dense(), want)
    changed = {0, 4}
    assert [a is b for a, b in zip(old.blocks, new.blocks, strict=True)] == [
        b not in changed for b in range(6)]


@pytest.mark.parametrize("rows", [[5], [22, 0, 5, 5, 13], list(range(23)), []])
def test_take_equals_the_plain_matrix_before_and_after_a_change(rows) -> None:
    plain = matrix()
    blocks = RowBlocks.of(plain.copy(), block=4)
    changed = blocks.with_rows(np.array([3, 8]), -np.ones((2, 5), np.float32))
    plain_changed = plain.copy()
    plain_changed[[3, 8]] = -1
    assert np.array_equal(blocks.take(np.array(rows, np.int64)), plain[rows])
    assert np.array_equal(changed.take(np.array(rows, np.int64)), plain_changed[rows])
    assert changed.shape == plain.shape and changed.dtype == plain.dtype


def test_no_version_can_be_changed_in_place() -> None:
    blocks = RowBlocks.of(matrix(), block=4).with_rows(np.array([0]), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="read-only"):
        blocks.dense()[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        blocks.blocks[0][0, 0] = 1.0


def test_bad_rows_are_refused() -> None:
    blocks = RowBlocks.of(matrix(), block=4)
    with pytest.raises(ValueError, match="values of shape"):
        blocks.with_rows(np.array([0, 1]), np.zeros((1, 5)))
    with pytest.raises(IndexError, match="outside"):
        blocks.with_rows(np.array([23]), np.zeros((1, 5)))
    with pytest.raises(ValueError, match="2-d"):
        RowBlocks.of(np.zeros(3))
