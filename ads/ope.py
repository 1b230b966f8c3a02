"""Off-policy evaluation: what would a new policy earn, judged from another's logs?

The logging policy must be stochastic and must log the probability it gave to the ad
it showed (the propensity μ(a|x)). With the target's probabilities π(a|x):

- IPS:    mean(w · r), w = π(a|x) / μ(a|x)                     (unbiased, high variance)
- SNIPS:  sum(w · r) / sum(w)                                    (self-normalised)
- DR:     mean(Σ_a' π(a'|x) q̂(x,a') + w · (r − q̂(x,a)))       (doubly robust)

q̂ is a ridge regression of reward on the candidate features, fitted on the logs.
These estimators assume contexts that do not depend on past actions (i.i.d. slots),
so evaluate in a simulator with ``fatigue=1.0`` and no budgets or caps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ads.context import AdContext
from ads.policies.base import Policy
from ads.simulator import AdSimulator


@dataclass(frozen=True)
class LoggedData:
    """What a production logger writes: context, shown ad, reward, propensity."""

    contexts: tuple[AdContext, ...]
    positions: np.ndarray  # (n,) row of the shown ad among the context's candidates
    rewards: np.ndarray  # (n,)
    propensities: np.ndarray  # (n,) μ(shown ad | context)

    def __len__(self) -> int:
        return len(self.contexts)


@dataclass(frozen=True)
class OPEEstimate:
    """One estimator's value, and its error when the truth is known."""

    estimator: str
    value: float
    truth: float | None = None

    @property
    def relative_error(self) -> float | None:
        if self.truth is None or self.truth == 0:
            return None
        return abs(self.value - self.truth) / abs(self.truth)


def collect_logs(
    sim: AdSimulator, logging_policy: Policy, n: int, *, learn: bool = False
) -> LoggedData:
    """Run ``logging_policy`` for ``n`` slots, logging each propensity."""
    contexts, positions = [], np.zeros(n, dtype=np.int64)
    rewards, props = np.zeros(n), np.zeros(n)
    for i in range(n):
        ctx = sim.next_context()
        p = logging_policy.probabilities(ctx)
        pos = int(logging_policy.rng_.choice(len(p), p=p))
        action = int(ctx.candidates[pos])
        fb = sim.step(action)
        if learn:
            logging_policy.update(ctx, action, fb.reward)
        contexts.append(ctx)
        positions[i], rewards[i], props[i] = pos, fb.reward, p[pos]
    if np.any(props <= 0):
        raise ValueError("collect_logs: the logging policy gave a shown ad zero probability")
    return LoggedData(tuple(contexts), positions, rewards, props)


def on_policy_value(sim: AdSimulator, policy: Policy, n: int) -> float:
    """The truth: mean true click probability of ``policy`` (frozen) over ``n`` slots."""
    total = 0.0
    for _ in range(n):
        ctx = sim.next_context()
        total += sim.step(policy.choose(ctx)).expected
    return total / n


class RidgeRewardModel:
    """q̂(x, a): ridge regression of the reward on the shown candidate's features."""

    def __init__(self, *, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, logs: LoggedData) -> RidgeRewardModel:
        from sklearn.linear_model import Ridge

        x = np.stack([c.features[p] for c, p in zip(logs.contexts, logs.positions, strict=True)])
        self.model_ = Ridge(alpha=self.alpha).fit(x, logs.rewards)
        return self

    def predict(self, context: AdContext) -> np.ndarray:
        """Predicted reward of every candidate of ``context``."""
        return self.model_.predict(context.features)


def _target_probs(logs: LoggedData, target: Policy) -> list[np.ndarray]:
    return [target.probabilities(c) for c in logs.contexts]


def _weights(logs: LoggedData, pis: list[np.ndarray]) -> np.ndarray:
    pi_a = np.array([p[pos] for p, pos in zip(pis, logs.positions, strict=True)])
    return pi_a / logs.propensities


def ips(logs: LoggedData, target: Policy) -> float:
    """Inverse propensity scoring estimate of ``target``'s mean reward."""
    return float(np.mean(_weights(logs, _target_probs(logs, target)) * logs.rewards))


def snips(logs: LoggedData, target: Policy) -> float:
    """Self-normalised IPS estimate."""
    w = _weights(logs, _target_probs(logs, target))
    return float(np.sum(w * logs.rewards) / max(np.sum(w), 1e-12))


def doubly_robust(
    logs: LoggedData, target: Policy, reward_model: RidgeRewardModel | None = None
) -> float:
    """Doubly robust estimate (direct method + IPS correction of its residual)."""
    model = reward_model or RidgeRewardModel().fit(logs)
    pis = _target_probs(logs, target)
    w = _weights(logs, pis)
    preds = [model.predict(c) for c in logs.contexts]
    direct = np.array([p @ q for p, q in zip(pis, preds, strict=True)])
    q_shown = np.array([q[pos] for q, pos in zip(preds, logs.positions, strict=True)])
    return float(np.mean(direct + w * (logs.rewards - q_shown)))


def evaluate_off_policy(
    logs: LoggedData, target: Policy, *, truth: float | None = None
) -> list[OPEEstimate]:
    """IPS, SNIPS and DR estimates of ``target`` from ``logs`` (with errors if ``truth``)."""
    return [
        OPEEstimate("ips", ips(logs, target), truth),
        OPEEstimate("snips", snips(logs, target), truth),
        OPEEstimate("dr", doubly_robust(logs, target), truth),
    ]
