"""Off-policy estimates agree with the target policy's true value in the simulator."""

from __future__ import annotations

import numpy as np
import pytest

from ads import (
    AdSimulator,
    LinUCB,
    RandomPolicy,
    SimConfig,
    collect_logs,
    evaluate_off_policy,
    on_policy_value,
    run_policy,
    synthetic_world,
)
from ads.ope import ips

WORLD = synthetic_world(n_users=300, n_ads=40, n_segments=4, seed=7)


def sim(seed: int) -> AdSimulator:
    return AdSimulator(WORLD, SimConfig(n_candidates=10, fatigue=1.0, seed=seed))


def test_ips_snips_dr_recover_a_better_target_from_random_logs() -> None:
    n_features = sim(0).n_features
    target = LinUCB(n_arms=WORLD.n_ads, n_features=n_features, seed=0)
    run_policy(sim(1), target, 3000)
    target.exploration = "greedy"
    logger = RandomPolicy(n_arms=WORLD.n_ads, seed=0)
    logs = collect_logs(sim(2), logger, 6000)
    np.testing.assert_allclose(logs.propensities, 0.1)
    truth = on_policy_value(sim(3), target, 6000)
    assert truth > 1.3 * logs.rewards.mean()  # the target is clearly not the logger
    estimates = evaluate_off_policy(logs, target, truth=truth)
    assert [e.estimator for e in estimates] == ["ips", "snips", "dr"]
    for e in estimates:
        assert e.relative_error is not None and e.relative_error < 0.15, e


def test_ips_of_the_logging_policy_is_its_own_average_reward() -> None:
    logger = LinUCB(n_arms=WORLD.n_ads, n_features=sim(0).n_features, exploration="softmax", seed=0)
    logs = collect_logs(sim(4), logger, 500)
    assert ips(logs, logger) == pytest.approx(logs.rewards.mean())
