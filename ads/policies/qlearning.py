"""Tabular Q-learning for sequential placement of ads within a session.

A session shows ``n_slots`` ads one after another. The state is small and discrete:
(user segment, slot position, whether the user already clicked in this session); the
action is the arm shown. The TD target bootstraps from the next slot of the same
session, ``r + γ · max_a Q(s', a)``, and is just ``r`` at the last slot, so the policy
can learn that an ad shown early changes what pays later (fatigue, a click already
made). Exploration is ε-greedy, with known propensities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ads.context import AdContext
from ads.policies.base import Policy, greedy_probabilities


class QLearning(Policy):
    """Q(s, a) over ``n_segments × n_slots × 2`` states and ``n_arms`` actions."""

    name = "qlearning"

    def __init__(
        self,
        *,
        n_arms: int,
        n_segments: int = 1,
        n_slots: int = 1,
        learning_rate: float = 0.05,
        gamma: float = 0.5,
        epsilon: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__(n_arms=n_arms, seed=seed)
        self.n_segments = n_segments
        self.n_slots = n_slots
        self.learning_rate = learning_rate
        self.gamma = gamma
        self.epsilon = epsilon
        self.q_ = np.zeros((n_segments * n_slots * 2, n_arms))

    def state_index(self, segment: int, slot: int, clicked: bool) -> int:
        """The row of Q for a (segment, slot, clicked-in-session) state."""
        if not (0 <= segment < self.n_segments and 0 <= slot < self.n_slots):
            raise ValueError(
                f"QLearning: state (segment={segment}, slot={slot}) outside "
                f"{self.n_segments} segments × {self.n_slots} slots"
            )
        return (segment * self.n_slots + slot) * 2 + int(clicked)

    def _state(self, context: AdContext) -> int:
        return self.state_index(context.segment, context.slot, context.session_clicks > 0)

    def probabilities(self, context: AdContext) -> np.ndarray:
        m = len(context.candidates)
        greedy = greedy_probabilities(self.q_[self._state(context), context.candidates])
        return self.epsilon / m + (1.0 - self.epsilon) * greedy

    def choose(self, context: AdContext) -> int:
        cands = context.candidates
        if self.rng_.random() < self.epsilon:
            return int(cands[self.rng_.integers(len(cands))])
        q = self.q_[self._state(context), cands]
        best = np.flatnonzero(q >= q.max() - 1e-12)
        return int(cands[best[self.rng_.integers(len(best))]])

    def update(self, context: AdContext, action: int, reward: float) -> None:
        s = self._state(context)
        target = reward
        if not context.is_last_slot:
            clicked = context.session_clicks > 0 or reward > 0
            s_next = self.state_index(context.segment, context.slot + 1, clicked)
            target += self.gamma * self.q_[s_next].max()
        self.q_[s, action] += self.learning_rate * (target - self.q_[s, action])

    def get_params(self) -> dict[str, Any]:
        return {
            "n_arms": self.n_arms,
            "n_segments": self.n_segments,
            "n_slots": self.n_slots,
            "learning_rate": self.learning_rate,
            "gamma": self.gamma,
            "epsilon": self.epsilon,
            "seed": self.seed,
        }

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"q": self.q_}

    def set_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.q_ = arrays["q"].astype(float)
