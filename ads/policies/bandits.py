"""Context-free bandits: random, ε-greedy, UCB1 and Thompson sampling.

Each keeps per-arm counts and reward sums over the global arm ids and scores only the
candidates offered in a slot (so budgets and frequency caps, which shrink the candidate
set, need no special handling here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ads.context import AdContext
from ads.policies.base import Policy, greedy_probabilities


class _ArmStatsPolicy(Policy):
    """Shared state: impressions and summed reward per arm."""

    def __init__(self, *, n_arms: int, seed: int = 0) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        self.counts_ = np.zeros(n_arms)
        self.sums_ = np.zeros(n_arms)

    def update(self, context: AdContext, action: int, reward: float) -> None:
        self.counts_[action] += 1.0
        self.sums_[action] += reward

    def means(self, arms: np.ndarray) -> np.ndarray:
        """Empirical mean reward of ``arms`` (0 for an arm never shown)."""
        n = self.counts_[arms]
        return np.divide(self.sums_[arms], n, out=np.zeros(len(arms)), where=n > 0)

    def get_params(self) -> dict[str, Any]:
        return {"n_arms": self.n_arms, "seed": self.seed}

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts_, "sums": self.sums_}

    def set_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.counts_ = arrays["counts"].astype(float)
        self.sums_ = arrays["sums"].astype(float)


class RandomPolicy(_ArmStatsPolicy):
    """Uniform over the candidates: the baseline every learner must beat."""

    name = "random"

    def probabilities(self, context: AdContext) -> np.ndarray:
        m = len(context.candidates)
        return np.full(m, 1.0 / m)

    def choose(self, context: AdContext) -> int:
        return int(context.candidates[self.rng_.integers(len(context.candidates))])


class EpsilonGreedy(_ArmStatsPolicy):
    """Explore uniformly with probability ``epsilon``, else show the best mean so far."""

    name = "epsilon_greedy"

    def __init__(self, *, n_arms: int, epsilon: float = 0.1, seed: int = 0) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"EpsilonGreedy: epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = epsilon

    def probabilities(self, context: AdContext) -> np.ndarray:
        m = len(context.candidates)
        greedy = greedy_probabilities(self.means(context.candidates))
        return self.epsilon / m + (1.0 - self.epsilon) * greedy

    def choose(self, context: AdContext) -> int:
        cands = context.candidates
        if self.rng_.random() < self.epsilon:
            return int(cands[self.rng_.integers(len(cands))])
        means = self.means(cands)
        best = np.flatnonzero(means >= means.max() - 1e-12)
        return int(cands[best[self.rng_.integers(len(best))]])

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "epsilon": self.epsilon}


class UCB1(_ArmStatsPolicy):
    """Optimism: mean + ``c`` · sqrt(2 ln t / n); every unseen candidate is tried first."""

    name = "ucb1"

    def __init__(self, *, n_arms: int, c: float = 1.0, seed: int = 0) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        self.c = c

    def scores(self, context: AdContext) -> np.ndarray:
        """Upper confidence bound of each candidate (inf when never shown)."""
        n = self.counts_[context.candidates]
        t = max(self.counts_.sum(), 1.0)
        bonus = self.c * np.sqrt(2.0 * np.log(t) / np.maximum(n, 1.0))
        return np.where(n > 0, self.means(context.candidates) + bonus, np.inf)

    def probabilities(self, context: AdContext) -> np.ndarray:
        s = self.scores(context)
        if np.isinf(s).any():
            return np.isinf(s) / np.isinf(s).sum()
        return greedy_probabilities(s)

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "c": self.c}


class ThompsonSampling(_ArmStatsPolicy):
    """Beta-Bernoulli posterior per arm; show the candidate with the highest draw."""

    name = "thompson"

    def __init__(
        self, *, n_arms: int, prior_alpha: float = 1.0, prior_beta: float = 1.0, seed: int = 0
    ) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        self.prior_alpha = prior_alpha
        self.prior_beta = prior_beta

    def _draw(self, context: AdContext, n_draws: int) -> np.ndarray:
        arms = context.candidates
        a = self.prior_alpha + self.sums_[arms]
        b = self.prior_beta + self.counts_[arms] - self.sums_[arms]
        return self.rng_.beta(a, b, size=(n_draws, len(arms)))

    def choose(self, context: AdContext) -> int:
        return int(context.candidates[np.argmax(self._draw(context, 1)[0])])

    def probabilities(self, context: AdContext) -> np.ndarray:
        """Monte-Carlo estimate (256 draws) of each candidate's chance of winning."""
        wins = np.bincount(
            np.argmax(self._draw(context, 256), axis=1), minlength=len(context.candidates)
        )
        return wins / wins.sum()

    def get_params(self) -> dict[str, Any]:
        return {
            **super().get_params(),
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
        }
