"""A small synthetic world for the cf model tests (no public data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from cf.data import Interactions


def make_world(seed: int = 0, n_users: int = 80, n_items: int = 30) -> Interactions:
    """Two taste groups: users of group g rate items of group g high and often, others low.

    Timestamps grow with each user's item order, so temporal models have a sequence.
    """
    rng = np.random.default_rng(seed)
    users, items, ratings, ts = [], [], [], []
    for u in range(n_users):
        group = u % 2
        liked = np.arange(group, n_items, 2)
        other = np.arange(1 - group, n_items, 2)
        chosen = np.r_[rng.choice(liked, 9, replace=False), rng.choice(other, 3, replace=False)]
        for pos, i in enumerate(rng.permutation(chosen)):
            users.append(f"u{u}")
            items.append(f"i{i}")
            ratings.append(5.0 if i % 2 == group else 1.0 + rng.integers(0, 2))
            ts.append(1_000 * u + pos)
    ids = [f"i{i}" for i in range(n_items)]
    return Interactions.from_arrays(users, items, ratings, ts, item_ids=ids)


@pytest.fixture(scope="session")
def world() -> Interactions:
    return make_world()
