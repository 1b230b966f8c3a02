"""bench/paired.py: the hybrid's per-user gap to its best part and best peer, with its noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.paired import Z95, compare, described, paired_difference, versus_best


def test_paired_difference_is_the_hand_computed_mean_se_and_interval() -> None:
    a = np.array([0.5, 1.0, 0.0, 0.25])
    b = np.array([0.25, 0.5, 0.0, 0.75])
    # differences 0.25, 0.5, 0, -0.5: mean 0.0625; squared deviations from it
    # 0.03515625 + 0.19140625 + 0.00390625 + 0.31640625 = 0.546875, / 3 = 0.18229167
    se = math.sqrt(0.546875 / 3) / 2
    out = paired_difference(a, b)
    assert out["diff"] == 0.0625 and out["users"] == 4
    assert out["se"] == pytest.approx(se, abs=1e-6) == pytest.approx(0.213478, abs=1e-6)
    assert out["lo"] == pytest.approx(0.0625 - Z95 * se, abs=1e-6)
    assert out["hi"] == pytest.approx(0.0625 + Z95 * se, abs=1e-6)


def test_one_user_has_no_noise_estimate_and_unpaired_values_are_refused() -> None:
    assert paired_difference(np.array([1.0]), np.array([0.5]))["se"] is None
    with pytest.raises(ValueError, match="same users"):
        paired_difference(np.zeros(3), np.zeros(4))


def test_versus_best_pairs_with_the_pool_member_of_highest_mean() -> None:
    hybrid = np.array([0.4, 0.5, 0.6])
    pool = {"cf alone": np.array([0.5, 0.6, 0.7]), "graph alone": np.array([0.1, 0.2, 0.3])}
    out = versus_best(hybrid, pool)
    assert out is not None and out["name"] == "cf alone" and out["ndcg"] == 0.6
    assert out["diff"] == pytest.approx(-0.1) and out["hi"] < 0  # always 0.1 short
    assert versus_best(hybrid, {}) is None


def test_compare_takes_the_peers_per_user_out_and_skips_failed_peers() -> None:
    per_user = {"hybrid": np.array([1.0, 0.0]), "cf alone": np.array([0.5, 0.5]),
                "item-kNN baseline": np.array([1.0, 1.0])}  # a baseline is not a part
    peers = {"EASE": {"NDCG@10": 0.75, "per_user": np.array([1.0, 0.5])},
             "implicit ALS": {"error": "died"}}
    out = compare(per_user, peers)
    assert out["vs_best_part"]["name"] == "cf alone" and out["vs_best_part"]["diff"] == 0.0
    assert out["vs_best_peer"]["name"] == "EASE" and out["vs_best_peer"]["diff"] == -0.25
    assert "per_user" not in peers["EASE"]
    assert "EASE 0.7500 diff -0.2500" in described(out["vs_best_peer"])


def test_generalise_refuses_to_pair_other_test_users() -> None:
    from types import SimpleNamespace

    from bench.generalise import paired

    result = SimpleNamespace(test_users=np.array([1, 2]), per_user={"hybrid": np.ones(2)})
    with pytest.raises(RuntimeError, match="other test users"):
        paired(result, np.array([2, 1]), {})
    assert paired(result, np.array([1, 2]), {}) == {}
