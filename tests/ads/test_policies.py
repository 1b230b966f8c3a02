"""Every policy honours the same contract; the learners beat chance in the simulator."""

from __future__ import annotations

import numpy as np
import pytest

from ads import (
    UCB1,
    AdSimulator,
    EpsilonGreedy,
    LinUCB,
    Policy,
    QLearning,
    RandomPolicy,
    SimConfig,
    ThompsonSampling,
    run_policy,
    synthetic_world,
)

WORLD = synthetic_world(n_users=300, n_ads=40, n_segments=4, seed=3)
N_FEATURES = AdSimulator(WORLD, SimConfig(n_candidates=10)).n_features


def make_policies() -> list[Policy]:
    n = WORLD.n_ads
    return [
        RandomPolicy(n_arms=n, seed=1),
        EpsilonGreedy(n_arms=n, epsilon=0.2, seed=1),
        UCB1(n_arms=n, seed=1),
        ThompsonSampling(n_arms=n, seed=1),
        LinUCB(n_arms=n, n_features=N_FEATURES, seed=1),
        LinUCB(n_arms=n, n_features=N_FEATURES, layout="disjoint", seed=1),
        LinUCB(n_arms=n, n_features=N_FEATURES, exploration="softmax", seed=1),
        QLearning(n_arms=n, n_segments=WORLD.n_segments, n_slots=3, seed=1),
    ]


@pytest.mark.parametrize("policy", make_policies(), ids=lambda p: p.name)
def test_contract_choose_probabilities_and_reload(policy: Policy, tmp_path) -> None:
    sim = AdSimulator(WORLD, SimConfig(n_candidates=10, seed=5))
    run_policy(sim, policy, 300)
    ctx = sim.next_context()
    p = policy.probabilities(ctx)
    assert p.shape == (len(ctx.candidates),)
    assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
    assert policy.choose(ctx) in set(ctx.candidates.tolist())

    policy.save(tmp_path / "policy.npz")
    again = Policy.load(tmp_path / "policy.npz")
    assert type(again) is type(policy)
    np.testing.assert_allclose(again.probabilities(ctx), policy.probabilities(ctx), atol=0.05)
    if policy.name != "thompson":  # Thompson's probabilities are Monte-Carlo draws
        np.testing.assert_array_equal(again.probabilities(ctx), policy.probabilities(ctx))
    picks = [policy.choose(ctx) for _ in range(20)]
    assert [again.choose(ctx) for _ in range(20)] == picks  # random state restored too


def test_load_rejects_a_file_that_is_not_a_policy(tmp_path) -> None:
    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a saved ads policy"):
        Policy.load(tmp_path / "x.npz")


def test_linucb_sherman_morrison_matches_the_ridge_inverse() -> None:
    sim = AdSimulator(WORLD, SimConfig(n_candidates=10, seed=2))
    policy = LinUCB(n_arms=WORLD.n_ads, n_features=N_FEATURES, ridge=2.0)
    xs, rs = [], []
    for _ in range(200):
        ctx = sim.next_context()
        a = policy.choose(ctx)
        r = sim.step(a).reward
        policy.update(ctx, a, r)
        xs.append(ctx.features[np.flatnonzero(ctx.candidates == a)[0]])
        rs.append(r)
    x = np.array(xs)
    a_mat = 2.0 * np.eye(N_FEATURES) + x.T @ x
    np.testing.assert_allclose(policy.a_inv_[0], np.linalg.inv(a_mat), atol=1e-8)
    np.testing.assert_allclose(policy.theta_[0], np.linalg.solve(a_mat, x.T @ np.array(rs)))


def _ctr(policy: Policy, n: int = 6000) -> tuple[float, np.ndarray]:
    result = run_policy(AdSimulator(WORLD, SimConfig(n_candidates=20, seed=11)), policy, n)
    return result.ctr, result.cumulative_regret


def test_linucb_beats_random_and_epsilon_greedy_with_sublinear_regret() -> None:
    ctr_random, regret_random = _ctr(RandomPolicy(n_arms=WORLD.n_ads, seed=0))
    ctr_eps, _ = _ctr(EpsilonGreedy(n_arms=WORLD.n_ads, seed=0))
    ctr_lin, regret = _ctr(LinUCB(n_arms=WORLD.n_ads, n_features=N_FEATURES, seed=0))
    assert ctr_lin >= 1.3 * ctr_random
    assert ctr_lin >= ctr_eps
    n = len(regret)
    # regret added in the second half is well below that of the first half
    assert regret[-1] - regret[n // 2] < 0.8 * regret[n // 2]
    assert regret[-1] < 0.5 * regret_random[-1]


def test_qlearning_learns_per_segment_placements() -> None:
    ctr_random, _ = _ctr(RandomPolicy(n_arms=WORLD.n_ads, seed=0))
    q = QLearning(n_arms=WORLD.n_ads, n_segments=WORLD.n_segments, n_slots=3, seed=0)
    ctr_q, _ = _ctr(q)
    assert ctr_q > 1.1 * ctr_random


def test_qlearning_rejects_a_state_outside_its_table() -> None:
    q = QLearning(n_arms=5, n_segments=2, n_slots=2)
    with pytest.raises(ValueError, match="outside"):
        q.state_index(segment=3, slot=0, clicked=False)
