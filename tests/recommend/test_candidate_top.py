"""A component's top N (:func:`recommend.hybrid.candidates.top_positions`): the largest
values, ties at the edge taken lowest position first, whatever the selection's internals."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.hybrid.candidates import (
    ColumnRow,
    RowOrder,
    SharedRow,
    _first_allowed,
    gather,
    top_positions,
)


def _reference(values: np.ndarray, take: int) -> set[int]:
    """Sorted by value (largest first), then position; the first ``take`` finite ones."""
    order = np.lexsort((np.arange(len(values)), -values))
    return set(order[np.isfinite(values[order])][:take].tolist())


@pytest.mark.parametrize("seed", range(30))
def test_the_largest_values_ties_by_lowest_position(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 20_000))
    take = int(rng.integers(1, 400))
    values = rng.normal(size=n)
    if seed % 2:  # many ties, at every edge
        values = np.round(values * rng.integers(1, 50))
    values[rng.random(n) < rng.random()] = -np.inf  # not to be kept
    got = top_positions(values, take)
    assert len(got) == len(set(got.tolist())) == min(take, int(np.isfinite(values).sum()))
    assert set(got.tolist()) == _reference(values, take)


def test_without_a_tie_at_the_edge_it_is_the_argpartition_set() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(size=18_000)
    values[rng.random(18_000) < 0.4] = -np.inf
    got = top_positions(values, 200)
    assert set(got.tolist()) == set(np.argpartition(-values, 199)[:200].tolist())


def test_a_tie_at_the_edge_keeps_the_lowest_positions() -> None:
    values = np.full(10_000, -np.inf)
    values[[9000, 40, 7000, 5, 8000]] = [4.0, 2.0, 2.0, 2.0, 3.0]
    assert sorted(top_positions(values, 3).tolist()) == [5, 8000, 9000]
    assert sorted(top_positions(values, 4).tolist()) == [5, 40, 8000, 9000]
    assert sorted(top_positions(values, 9).tolist()) == [5, 40, 7000, 8000, 9000]


@pytest.mark.parametrize("seed", range(6))
def test_one_row_gathers_as_in_a_batch(seed: int) -> None:
    """A request's row and the same row in a batch of two: the same candidates."""
    rng = np.random.default_rng(seed)
    n = 4000
    dense = rng.normal(size=(2, n))
    dense[:, rng.random(n) < 0.3] = 0.0
    tied = np.round(rng.random((2, n)) * 20)  # ties at every edge
    dense[:, rng.random(n) < 0.01] = [[np.nan], [np.inf]][seed % 2]  # never candidates
    tied[:, rng.random(n) < 0.01] = -np.inf
    sparse = np.where(rng.random((2, n)) < 0.04, rng.random((2, n)), 0.0)  # fewer than 200
    sparse[:, :3] = np.nan
    allowed = rng.random((2, n)) < 0.9
    prior = np.floor(rng.random(n) * 5) if seed % 3 else None
    scores = {"dense": dense, "tied": tied, "sparse": sparse}
    batch = gather(scores, allowed, [150, 200, 200], prior=prior)
    one = gather({k: v[:1] for k, v in scores.items()}, allowed[:1], [150, 200, 200],
                 prior=prior)
    first = batch.rows == 0
    assert np.array_equal(one.items, batch.items[first])
    assert np.array_equal(one.features, batch.features[first])
    assert np.array_equal(one.pool, batch.pool[first])
    assert one.rows.dtype == batch.rows.dtype and not one.rows.any()


@pytest.mark.parametrize("seed", range(6))
def test_a_shared_row_gathers_as_its_dense_rows(seed: int) -> None:
    """Popularity's one row for all (:class:`SharedRow`, its order made once): the same
    candidates and features as the row repeated densely, ties broken by the prior."""
    rng = np.random.default_rng(seed)
    n = 3000
    values = np.round(rng.random(n) * 8) / 2  # ties at every edge
    values[rng.random(n) < 0.2] = 0.0
    other = rng.normal(size=(3, n))
    allowed = rng.random((3, n)) < (0.3 if seed % 2 else 0.95)
    prior = np.floor(rng.random(n) * 4) if seed % 3 else None
    order = RowOrder()
    for rows in (3, 1):  # a batch, then a request (the order is made once, then kept)
        dense = {"other": other[:rows], "pop": np.repeat(values[None], rows, axis=0)}
        shared = {"other": other[:rows], "pop": SharedRow(values, rows, order)}
        a = gather(dense, allowed[:rows], [100, 150], prior=prior)
        b = gather(shared, allowed[:rows], [100, 150], prior=prior)
        assert np.array_equal(a.rows, b.rows) and np.array_equal(a.items, b.items)
        assert np.array_equal(a.features, b.features) and np.array_equal(a.pool, b.pool)


def test_a_row_order_is_remade_for_another_prior_or_row() -> None:
    values = np.array([1.0, 2.0, 2.0, 0.0, 2.0])
    order = RowOrder()
    assert order(values, None).tolist() == [1, 2, 4, 0]
    assert order(values, np.array([0.0, 0.0, 1.0, 0.0, 3.0])).tolist() == [4, 2, 1, 0]
    assert order(values, np.array([0.0, 5.0, 1.0, 0.0, 3.0])).tolist() == [1, 4, 2, 0]
    assert order(values * 1.0, None).tolist() == [1, 2, 4, 0]  # another array: remade
    kept = order(values, None)
    assert order(values, None) is kept
    prior = np.array([0.0, 1.0, 0.0, 0.0, 2.0])
    kept = order(values, prior)
    assert order(values, prior) is kept and order(values, prior.copy()) is kept


def test_first_allowed_reads_past_its_prefix() -> None:
    order = np.arange(1000)[::-1]
    allowed = np.zeros(1000, bool)
    allowed[:30] = True  # the last 30 of the order only
    assert _first_allowed(order, allowed, 10).tolist() == list(range(29, 19, -1))
    assert _first_allowed(order, allowed, 50).tolist() == list(range(29, -1, -1))


def test_the_bump_is_kept_for_the_same_prior_only() -> None:
    from recommend.hybrid.candidates import _bump

    a, b = np.array([0.0, 1.0, 3.0]), np.array([2.0, 1.0, 0.0])
    first = _bump(a)
    assert _bump(a) is first  # the same array: kept
    assert np.array_equal(_bump(b), 1e-9 * (b / 3.0))
    assert np.array_equal(_bump(a.copy()), 1e-9 * (a / 4.0))


@pytest.mark.parametrize("seed", range(8))
def test_a_column_row_gathers_as_its_dense_row(seed: int) -> None:
    """A cf block over the products it was fitted on (:class:`ColumnRow`): the same
    candidates and features as the block scattered into a row of every product, ties
    broken by the prior (or not), few valid items (all of them) or many."""
    rng = np.random.default_rng(seed)
    n = 3000
    columns = np.flatnonzero(rng.random(n) < 0.6)
    values = np.round(rng.normal(size=len(columns)) * 4) / 4  # ties at every edge
    values[rng.random(len(columns)) < 0.1] = 0.0
    if seed % 4 == 3:  # few with evidence: every one is taken
        values[rng.random(len(columns)) < 0.97] = 0.0
    column_of = np.full(n, -1, np.int64)
    column_of[columns] = np.arange(len(columns))
    dense = np.zeros((1, n))
    dense[0, columns] = values
    other = rng.normal(size=(1, n))
    allowed = rng.random((1, n)) < 0.8
    prior = np.floor(rng.random(n) * 4) if seed % 2 else None
    a = gather({"other": other, "cf": dense}, allowed, [100, 150], prior=prior)
    b = gather({"other": other, "cf": ColumnRow(values, columns, column_of)}, allowed,
               [100, 150], prior=prior)
    assert np.array_equal(a.items, b.items) and np.array_equal(a.pool, b.pool)
    assert a.features.tobytes() == b.features.tobytes()
