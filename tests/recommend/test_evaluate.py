"""The evaluation protocols (split fingerprints) and metrics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cf.popular import MostPopular
from recommend.evaluate import metrics as m
from recommend.evaluate.harness import ranking_task, rating_task, run_our_ranking
from recommend.evaluate.protocols import (
    LEAVE_LAST_OUT_FINGERPRINT,
    RANKING_FINGERPRINT,
    RATING_FINGERPRINT,
    Rows,
    leave_last_out_split,
    rating_split,
    read_udata,
    temporal_split,
)


def test_protocol_fingerprints_on_ml100k(shared_dataset) -> None:
    rows = read_udata(shared_dataset("ml-100k"))
    assert len(rows) == 100_000
    rating = rating_split(rows)
    ranking = temporal_split(rows)
    llo = leave_last_out_split(rows)
    assert (len(rating.train), len(rating.test)) == (80_000, 20_000)
    assert (len(ranking.train), len(ranking.test)) == (79_619, 20_381)
    assert rating.fingerprint == RATING_FINGERPRINT
    assert ranking.fingerprint == RANKING_FINGERPRINT
    assert llo.fingerprint == LEAVE_LAST_OUT_FINGERPRINT
    # the validation split is cut from train only and is again temporal
    val = temporal_split(ranking.train)
    assert len(val.train) + len(val.test) == len(ranking.train)
    test_pairs = set(zip(ranking.test.user.tolist(), ranking.test.item.tolist(), strict=True))
    val_pairs = set(zip(val.test.user.tolist(), val.test.item.tolist(), strict=True))
    assert not test_pairs & val_pairs


def _rows(data: list[tuple[int, int, float, int]]) -> Rows:
    arr = np.array(data, dtype=np.float64)
    return Rows(arr[:, 0].astype(int), arr[:, 1].astype(int), arr[:, 2], arr[:, 3].astype(int))


def test_temporal_split_takes_each_users_latest_rows_with_item_tie_break() -> None:
    rows = _rows(
        [
            (1, 10, 5, 100),
            (1, 11, 4, 200),
            (1, 12, 3, 200),
            (1, 13, 3, 50),
            (1, 14, 2, 300),
            (2, 10, 5, 1),
            (2, 11, 5, 2),
        ]
    )
    split = temporal_split(rows)
    # user 1: ceil(0.2 * 5) = 1 row -> latest (ts 300); user 2: ceil(0.4) = 1 -> ts 2
    assert sorted(zip(split.test.user.tolist(), split.test.item.tolist(), strict=True)) == [
        (1, 14),
        (2, 11),
    ]
    llo = leave_last_out_split(_rows([(1, 12, 3, 200), (1, 11, 4, 200)]))
    assert llo.test.item.tolist() == [12]  # equal times: the larger item id is later


def test_ranking_metrics_by_hand() -> None:
    relevant = sp.csr_matrix(np.array([[0, 1, 1, 0, 0], [1, 0, 0, 0, 0]]))
    recs = np.array([[1, 3, 2], [4, 3, -1]])
    assert m.precision_at_k(recs, relevant, 3) == pytest.approx((2 / 3 + 0) / 2)
    assert m.recall_at_k(recs, relevant, 3) == pytest.approx((1.0 + 0) / 2)
    assert m.hit_rate_at_k(recs, relevant, 3) == pytest.approx(0.5)
    ndcg_user0 = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    assert m.ndcg_at_k(recs, relevant, 3) == pytest.approx(ndcg_user0 / 2)
    assert m.map_at_k(recs, relevant, 3) == pytest.approx(((1 + 2 / 3) / 2) / 2)
    assert m.catalogue_coverage(recs, 5, 3) == pytest.approx(4 / 5)
    assert m.mean_popularity(recs, np.array([1, 2, 3, 4, 5]), 2) == pytest.approx(
        (2 + 4 + 5 + 4) / 4
    )


def test_rating_metrics_by_hand() -> None:
    assert m.rmse(np.array([1.0, 3.0]), np.array([2.0, 5.0])) == pytest.approx(np.sqrt(2.5))
    assert m.mae(np.array([1.0, 3.0]), np.array([2.0, 5.0])) == pytest.approx(1.5)


def test_harness_runs_a_model_on_a_split() -> None:
    rng = np.random.default_rng(0)
    data = [
        (u, int(i), float(rng.integers(1, 6)), t)
        for u in range(20)
        for t, i in enumerate(rng.choice(15, 6, replace=False))
    ]
    split = temporal_split(_rows(data))
    task = ranking_task(split)
    assert task.train.shape == (20, 15) and len(task.users) == 20
    result = run_our_ranking("popular", MostPopular(), task)
    assert 0.0 <= result.metrics["NDCG@10"] <= 1.0
    assert result.fit_seconds >= 0 and "HR@20" in result.metrics
    rtask = rating_task(rating_split(_rows(data)))
    assert len(rtask.truth) == len(rtask.user_index) == 24
