"""Judging rankings on each validation split apart (recommend.hybrid.judge)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.hybrid.blend import Blend, fit_coordinate
from recommend.hybrid.judge import objective, per_part
from recommend.hybrid.select import choose_served


def two_splits(n_users: int = 200, n_items: int = 12, seed: int = 0):
    """Rows 0..n-1 are users in a by-time split, rows n..2n-1 the same users at random.
    Component 0 (recency) finds the by-time item perfectly and ranks the random one last;
    component 1 (taste) finds the random item under noise and misses the by-time one."""
    rng = np.random.default_rng(seed)
    n_rows = 2 * n_users
    rows = np.repeat(np.arange(n_rows), n_items)
    items = np.tile(np.arange(n_items), n_rows)
    target = np.r_[rng.integers(0, n_items // 2, n_users),
                   rng.integers(n_items // 2, n_items, n_users)]
    by_time = np.repeat(np.arange(n_rows) < n_users, n_items)
    hit = items == target[rows]
    noise = rng.random(len(rows)) * 0.3
    recent = np.where(hit & by_time, 1.0, np.where(hit, 0.0, noise))
    taste = np.where(hit & ~by_time, 1.0, 0.0) + rng.random(len(rows)) * 0.3
    feats = np.stack([recent, taste], axis=1)
    relevant = sp.csr_matrix((np.ones(n_rows), (np.arange(n_rows), target)),
                             shape=(n_rows, n_items))
    part_of_row = np.repeat([0, 1], n_users)
    return feats, rows, items, relevant, part_of_row


def test_a_component_is_judged_by_its_worse_split() -> None:
    feats, rows, items, relevant, part = two_splits()
    ndcg = per_part(feats[:, 0], rows, items, relevant, 10, part_of_row=part)
    assert ndcg[0] == pytest.approx(1.0)
    assert ndcg[1] < 0.5
    taste = per_part(feats[:, 1], rows, items, relevant, 10, part_of_row=part)
    judge = objective(feats, rows, items, relevant, 10, part_of_row=part)
    assert judge(feats[:, 0]) == pytest.approx(ndcg[1] / taste[1], abs=1e-4)
    assert judge(feats[:, 0]) < 1.0 and judge(feats[:, 1]) < 1.0


def test_the_fitted_blend_serves_both_splits_and_is_chosen_over_either_part() -> None:
    feats, rows, items, relevant, part = two_splits()
    judge = objective(feats, rows, items, relevant, 10, part_of_row=part)
    weights, value = fit_coordinate(feats, judge)
    assert value == pytest.approx(1.0)  # as good as the best component on each split
    assert value > max(judge(feats[:, 0]), judge(feats[:, 1]))
    blend = Blend(("recent", "taste"), weights)
    only = np.ones(relevant.shape[0], bool)
    choice, record = choose_served(blend, feats, None, rows, items, relevant, only, 10,
                                   part, ["time", "random"])
    assert choice == "blend"
    assert set(record["ndcg@10 per split (time, random)"]) == {"recent", "taste", "blend"}


def test_with_one_split_the_judge_is_plain_ndcg() -> None:
    feats, rows, items, relevant, _ = two_splits()
    judge = objective(feats, rows, items, relevant, 10)
    assert judge(feats[:, 1]) == pytest.approx(per_part(feats[:, 1], rows, items,
                                                        relevant, 10)[0], abs=1e-5)
