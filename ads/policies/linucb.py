"""LinUCB (Li et al., WWW 2010): a ridge-regression click model with an optimism bonus.

Two model layouts:

- ``"shared"``: one model over the joint user × ad × context features, so what is
  learnt about one ad transfers to every other (the right choice with many ads);
- ``"disjoint"``: one model per arm, as in the paper's first algorithm.

``A⁻¹`` is kept directly and updated with the Sherman–Morrison formula (O(d²) per
update, no inversion), and ``choose`` scores all candidates in one vectorised pass,
which keeps it well under 2 ms with 1,000 candidates.

``exploration="softmax"`` makes the policy stochastic with known propensities
(``(1-ε)·softmax(θᵀx / τ) + ε/m``): a logging policy for off-policy evaluation.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ads.context import AdContext
from ads.policies.base import Policy, greedy_probabilities

Layout = Literal["shared", "disjoint"]
Exploration = Literal["ucb", "greedy", "softmax"]


class LinUCB(Policy):
    """Contextual bandit over ``n_features``-dimensional candidate feature rows."""

    name = "linucb"

    def __init__(
        self,
        *,
        n_arms: int,
        n_features: int,
        alpha: float = 0.5,
        ridge: float = 1.0,
        layout: Layout = "shared",
        exploration: Exploration = "ucb",
        temperature: float = 0.05,
        epsilon: float = 0.05,
        seed: int = 0,
    ) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        if layout not in ("shared", "disjoint"):
            raise ValueError(f"LinUCB: layout must be 'shared' or 'disjoint', got {layout!r}")
        if exploration not in ("ucb", "greedy", "softmax"):
            raise ValueError(f"LinUCB: unknown exploration {exploration!r}")
        self.n_features = n_features
        self.alpha = alpha
        self.ridge = ridge
        self.layout = layout
        self.exploration = exploration
        self.temperature = temperature
        self.epsilon = epsilon
        n_models = 1 if layout == "shared" else n_arms
        eye = np.eye(n_features) / ridge
        self.a_inv_ = np.repeat(eye[None], n_models, axis=0)
        self.b_ = np.zeros((n_models, n_features))
        self.theta_ = np.zeros((n_models, n_features))

    def mean_and_width(self, context: AdContext) -> tuple[np.ndarray, np.ndarray]:
        """Predicted reward θᵀx and confidence width sqrt(xᵀA⁻¹x) per candidate."""
        x = context.features
        if x.shape[1] != self.n_features:
            raise ValueError(f"LinUCB: expected {self.n_features} features, got {x.shape[1]}")
        if self.layout == "shared":
            mean = x @ self.theta_[0]
            width_sq = np.einsum("md,md->m", x @ self.a_inv_[0], x)
        else:
            arms = context.candidates
            mean = np.einsum("md,md->m", x, self.theta_[arms])
            width_sq = np.einsum("md,mde,me->m", x, self.a_inv_[arms], x, optimize=True)
        return mean, np.sqrt(np.maximum(width_sq, 0.0))

    def scores(self, context: AdContext) -> np.ndarray:
        """Upper confidence bound θᵀx + α·width (just θᵀx unless exploring by UCB)."""
        mean, width = self.mean_and_width(context)
        return mean + self.alpha * width if self.exploration == "ucb" else mean

    def probabilities(self, context: AdContext) -> np.ndarray:
        s = self.scores(context)
        if self.exploration != "softmax":
            return greedy_probabilities(s)
        z = np.exp((s - s.max()) / self.temperature)
        return (1.0 - self.epsilon) * z / z.sum() + self.epsilon / len(s)

    def choose(self, context: AdContext) -> int:
        if self.exploration == "softmax":
            return super().choose(context)
        s = self.scores(context)
        best = np.flatnonzero(s >= s.max() - 1e-12)
        pick = best[0] if len(best) == 1 else best[self.rng_.integers(len(best))]
        return int(context.candidates[pick])

    def update(self, context: AdContext, action: int, reward: float) -> None:
        row = np.flatnonzero(context.candidates == action)
        if len(row) == 0:
            raise ValueError(f"LinUCB: arm {action} is not among the context's candidates")
        x = context.features[row[0]]
        k = 0 if self.layout == "shared" else action
        a_inv = self.a_inv_[k]
        ax = a_inv @ x
        a_inv -= np.outer(ax, ax) / (1.0 + x @ ax)  # Sherman–Morrison
        self.b_[k] += reward * x
        self.theta_[k] = a_inv @ self.b_[k]

    def get_params(self) -> dict[str, Any]:
        return {
            "n_arms": self.n_arms,
            "n_features": self.n_features,
            "alpha": self.alpha,
            "ridge": self.ridge,
            "layout": self.layout,
            "exploration": self.exploration,
            "temperature": self.temperature,
            "epsilon": self.epsilon,
            "seed": self.seed,
        }

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"a_inv": self.a_inv_, "b": self.b_, "theta": self.theta_}

    def set_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.a_inv_ = arrays["a_inv"].astype(float)
        self.b_ = arrays["b"].astype(float)
        self.theta_ = arrays["theta"].astype(float)
