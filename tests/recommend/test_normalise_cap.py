"""A candidate scored outside the pool (an explained product the user already has) is capped
at the pool's highest score per component: it never lands past the candidates' scale."""

import numpy as np
import pytest

from recommend.hybrid.normalise import normalise


def _row(pool_values: list[float], outside: float) -> tuple[np.ndarray, np.ndarray]:
    features = np.array([[v, -v] for v in [*pool_values, outside]], np.float64)
    pool = np.array([True] * len(pool_values) + [False])
    return features, pool


@pytest.mark.parametrize("how", ["minmax", "zscore"])
@pytest.mark.parametrize("n_rows", [1, 2])
def test_an_outside_candidate_above_the_pool_scores_as_its_highest(how: str, n_rows: int) -> None:
    features, pool = _row([1.0, 2.0, 4.0], 118.0)
    top = features[2:3]  # the pool's highest in component 0
    rows = np.zeros(len(features), np.int64)
    if n_rows == 2:  # a second row before it, whose statistics stay its own
        features = np.vstack([[[50.0, 0.0], [60.0, 1.0]], features])
        pool = np.concatenate([[True, True], pool])
        rows = np.concatenate([[0, 0], rows + 1])
    out = normalise(features, rows, n_rows, how, pool)
    mine = out[rows == n_rows - 1]
    best = normalise(np.vstack([features[rows == n_rows - 1][:3], top]), np.zeros(4, np.int64),
                     1, how, np.array([True, True, True, False]))[3]
    assert mine[3, 0] == pytest.approx(mine[2, 0])  # capped at the pool's highest
    assert mine[3, 0] == pytest.approx(best[0])
    assert mine[3, 1] < mine[:3, 1].min()  # below the pool's lowest: kept below
    if how == "minmax":
        assert mine[3, 0] == 1.0
        if n_rows == 2:
            assert out[:2, 0].tolist() == [0.0, 1.0]


def test_inside_candidates_are_unchanged_by_the_cap() -> None:
    features, pool = _row([1.0, 2.0, 4.0], 118.0)
    rows = np.zeros(len(features), np.int64)
    capped = normalise(features, rows, 1, "minmax", pool)[:3]
    alone = normalise(features[:3], rows[:3], 1, "minmax")
    assert capped.tolist() == alone.tolist()
