"""Interactions: validation of bad input and id handling."""

from __future__ import annotations

import numpy as np
import pytest

from cf.data import Interactions
from kg.records import Event


def test_nan_and_inf_ratings_are_rejected_with_their_row() -> None:
    with pytest.raises(ValueError, match=r"row 1: value nan is not finite"):
        Interactions.from_arrays(["a", "b"], ["x", "y"], [4.0, float("nan")])
    with pytest.raises(ValueError, match=r"row 0: timestamp inf"):
        Interactions.from_arrays(["a"], ["x"], [4.0], [float("inf")])


def test_repeated_pairs_are_an_error_unless_resolved() -> None:
    users, items, vals = ["a", "a", "b"], ["x", "x", "y"], [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="repeated"):
        Interactions.from_arrays(users, items, vals)
    summed = Interactions.from_arrays(users, items, vals, duplicates="sum")
    last = Interactions.from_arrays(users, items, vals, duplicates="last")
    assert summed.matrix[0, 0] == 3.0 and last.matrix[0, 0] == 2.0


def test_fixed_universe_and_unknown_ids() -> None:
    x = Interactions.from_arrays([1, 3], [10, 30], item_ids=[30, 20, 10])
    assert x.shape == (2, 3)
    assert x.item_index([10, 20, 99]).tolist() == [2, 1, -1]
    with pytest.raises(ValueError, match="item id 99"):
        Interactions.from_arrays([1], [99], item_ids=[10])


def test_from_events_weights_kinds_and_keeps_time() -> None:
    events = [
        Event("u1", "p1", "product", "view", ts=1.0),
        Event("u1", "p1", "product", "purchase", ts=2.0),
        Event("u2", "p2", "product", "rate", value=4.0, ts=3.0),
        Event("u2", "post9", "post", "like", ts=4.0),
    ]
    implicit = Interactions.from_events(events)
    assert implicit.matrix[0, 0] == pytest.approx(5.0)  # view 1 + purchase 4
    assert implicit.timestamps is not None
    ratings = Interactions.from_events(events, ratings=True)
    assert ratings.shape == (1, 1) and ratings.matrix[0, 0] == 4.0


def test_ordered_items_follow_time_then_item() -> None:
    x = Interactions.from_arrays(["a"] * 3, [5, 1, 3], None, [20.0, 20.0, 10.0])
    assert x.item_ids[x.ordered_items(0)].tolist() == [3, 1, 5]
    assert np.isfinite(x.matrix.data).all()
