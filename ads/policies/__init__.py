"""Ad-delivery policies behind one interface: ``choose``, ``update``, ``save``/``load``."""

from ads.policies.bandits import UCB1, EpsilonGreedy, RandomPolicy, ThompsonSampling
from ads.policies.base import Policy, registered_policies
from ads.policies.linucb import LinUCB
from ads.policies.qlearning import QLearning

__all__ = [
    "UCB1",
    "EpsilonGreedy",
    "LinUCB",
    "Policy",
    "QLearning",
    "RandomPolicy",
    "ThompsonSampling",
    "registered_policies",
]
