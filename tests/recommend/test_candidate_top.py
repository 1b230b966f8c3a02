"""A request's top N per component (:func:`recommend.hybrid.candidates.unique_top`) keeps
the very set ``np.argpartition`` keeps, and hands ties at the edge back to it."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.hybrid.candidates import gather, unique_top


def _argpartition_set(values: np.ndarray, take: int) -> set[int]:
    return set(np.argpartition(-values, take - 1)[:take].tolist())


@pytest.mark.parametrize("seed", range(20))
def test_a_unique_top_is_the_argpartition_set(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(300, 20_000))
    take = int(rng.integers(1, 300))
    values = rng.normal(size=n)
    values[rng.random(n) < rng.random()] = -np.inf  # not to be kept
    got = unique_top(values, take)
    finite = int(np.isfinite(values).sum())
    if finite <= take:
        assert got is None
        return
    assert got is not None and len(got) == take
    assert set(got.tolist()) == _argpartition_set(values, take)


def test_ties_at_the_edge_are_not_decided() -> None:
    rng = np.random.default_rng(1)
    values = np.round(rng.random(5000) * 50)  # many ties
    ordered = np.sort(values)[::-1]
    take = int(np.flatnonzero(ordered[1:] == ordered[:-1])[10]) + 1  # ties at the edge
    assert unique_top(values, take) is None
    clear = int(np.flatnonzero(ordered[1:] < ordered[:-1])[3]) + 1  # a clear edge
    got = unique_top(values, clear)
    assert got is not None and set(got.tolist()) == _argpartition_set(values, clear)


def test_few_values_above_minus_infinity() -> None:
    values = np.full(10_000, -np.inf)
    values[[5, 70, 9000]] = [1.0, 3.0, 2.0]
    assert sorted(unique_top(values, 2).tolist()) == [70, 9000]
    assert sorted(unique_top(values, 3).tolist()) == [5, 70, 9000]  # the finite ones
    assert unique_top(values, 4) is None  # the 4th largest is -inf: tied with the 5th
    assert unique_top(values[:2], 2) is None


@pytest.mark.parametrize("seed", range(5))
def test_one_row_gathers_as_a_batch_does(seed: int) -> None:
    """A request (one row: unique_top, flatnonzero) against the same row in a batch of
    two (np.argpartition over the rows, np.nonzero): the same candidates."""
    rng = np.random.default_rng(seed)
    n = 4000
    dense = rng.normal(size=(2, n))
    dense[:, rng.random(n) < 0.3] = 0.0
    tied = np.round(rng.random((2, n)) * 20)  # ties at every edge
    allowed = rng.random((2, n)) < 0.9
    prior = np.floor(rng.random(n) * 5)
    scores = {"dense": dense, "tied": tied}
    batch = gather(scores, allowed, [150, 200], prior=prior)
    one = gather({k: v[:1] for k, v in scores.items()}, allowed[:1], [150, 200], prior=prior)
    first = batch.rows == 0
    assert np.array_equal(one.items, batch.items[first])
    assert np.array_equal(one.features, batch.features[first])
    assert np.array_equal(one.pool, batch.pool[first])
    assert one.rows.dtype == batch.rows.dtype and not one.rows.any()
