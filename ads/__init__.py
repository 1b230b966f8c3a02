"""Ad-delivery optimisation: bandit and RL policies, a seeded simulator, off-policy evaluation.

>>> from ads import AdSimulator, LinUCB, SimConfig, run_policy, synthetic_world
>>> world = synthetic_world(n_users=50, n_ads=20, seed=0)
>>> sim = AdSimulator(world, SimConfig(n_candidates=10, seed=0))
>>> policy = LinUCB(n_arms=world.n_ads, n_features=sim.n_features)
>>> run_policy(sim, policy, 100).n
100
"""

from ads.context import AdContext, Feedback
from ads.ope import LoggedData, OPEEstimate, collect_logs, evaluate_off_policy, on_policy_value
from ads.policies import (
    UCB1,
    EpsilonGreedy,
    LinUCB,
    Policy,
    QLearning,
    RandomPolicy,
    ThompsonSampling,
)
from ads.runner import RunResult, run_policy
from ads.simulator import AdSimulator, BudgetsExhausted, SimConfig
from ads.world import AdWorld, synthetic_world, world_from_profiles

__all__ = [
    "UCB1",
    "AdContext",
    "AdSimulator",
    "AdWorld",
    "BudgetsExhausted",
    "EpsilonGreedy",
    "Feedback",
    "LinUCB",
    "LoggedData",
    "OPEEstimate",
    "Policy",
    "QLearning",
    "RandomPolicy",
    "RunResult",
    "SimConfig",
    "ThompsonSampling",
    "collect_logs",
    "evaluate_off_policy",
    "on_policy_value",
    "run_policy",
    "synthetic_world",
    "world_from_profiles",
]
