"""A request (one row) ranks every product, a batch only those some row may get: the same
candidates for the same user (their scores but for the cf model's float32 rounding, which
a batch's matrix product sums in another order than one row's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommend import Recommender


def test_one_row_ranks_as_its_row_in_a_batch(small_demo_artifact: Path) -> None:
    model = Recommender.load(small_demo_artifact).model
    users = np.flatnonzero(np.diff(model.seen_.indptr) > 0)[:12]
    mask = model.graph.described("product").copy()
    mask[: len(mask) // 4] = False  # a quarter no row may get: the batch leaves them out
    batch = model.rank(users, model.allowed(users, mask, exclude_seen=True))
    for r, u in enumerate(users.tolist()):
        one = model.rank(np.array([u]), model.allowed(np.array([u]), mask, exclude_seen=True))
        mine = batch.candidates.rows == r
        assert len(one.candidates.items) > 0
        assert np.array_equal(one.candidates.items, batch.candidates.items[mine])
        assert np.array_equal(one.candidates.pool, batch.candidates.pool[mine])
        np.testing.assert_allclose(one.candidates.features, batch.candidates.features[mine],
                                   rtol=1e-5, atol=1e-7)
        # a score near 0 is a sum of terms near 1 whose float32 roundings (the features'
        # 1e-7) need not cancel as the score does: an absolute bar of a few of them
        np.testing.assert_allclose(one.scores, batch.scores[mine], rtol=1e-5, atol=1e-6)
        assert mask[one.candidates.items].all()  # never a product the row may not get
