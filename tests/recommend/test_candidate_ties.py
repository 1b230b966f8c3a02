"""A component's tied scores at the edge of its top N are ordered by the prior (how many
people saw each product), and the sizing's ranks count ties as the pool takes them."""

from __future__ import annotations

import numpy as np

from recommend.hybrid.candidates import gather, tie_broken


def test_ties_at_the_edge_take_the_highest_prior() -> None:
    s = np.array([[5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]])  # 5 items tied for the 2nd place
    prior = np.array([0.0, 1.0, 9.0, 3.0, 7.0, 0.0, 99.0])
    got = gather({"s": s}, np.ones((1, 7), bool), n=3, prior=prior)
    assert got.items.tolist() == [0, 2, 4]  # never item 6: no evidence
    assert got.features[:, 0].tolist() == [5.0, 1.0, 1.0]  # the raw scores are kept


def test_the_prior_never_swaps_distinct_scores() -> None:
    rng = np.random.default_rng(0)
    s = rng.normal(size=(4, 300)) * 10.0 ** rng.integers(-6, 6, size=(4, 1))
    moved = tie_broken(s, rng.random(300) * 1e6)
    assert (np.argsort(-moved, axis=1, kind="stable") ==
            np.argsort(-s, axis=1, kind="stable")).all()
    assert tie_broken(s, None) is s
