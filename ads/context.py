"""What a policy sees at one ad slot, and what the environment answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class AdContext:
    """One decision: which of ``candidates`` (global arm ids) to show in this slot.

    ``features`` has one row per candidate: the joint user × ad × context vector that
    contextual policies (LinUCB) score. ``segment``, ``slot`` and ``session_clicks`` are
    the small discrete state that tabular policies (Q-learning) use.
    """

    user: int
    candidates: np.ndarray  # (m,) int64 arm ids
    features: np.ndarray  # (m, d) float64
    segment: int = 0
    hour: int = 12
    slot: int = 0
    device: int = 0
    session_clicks: int = 0
    n_slots: int = 1

    def __post_init__(self) -> None:
        if len(self.candidates) == 0:
            raise ValueError("AdContext: no candidate ads")
        if self.features.shape[0] != len(self.candidates):
            raise ValueError(
                f"AdContext: {self.features.shape[0]} feature rows for "
                f"{len(self.candidates)} candidates"
            )

    @property
    def is_last_slot(self) -> bool:
        """True at the session's final slot (no future reward to bootstrap)."""
        return self.slot >= self.n_slots - 1


@dataclass(frozen=True, slots=True)
class Feedback:
    """The environment's answer to one impression.

    ``expected`` is the true click probability of the shown ad and ``best_expected``
    that of the best eligible candidate: their difference is the (pseudo-)regret.
    """

    click: bool
    conversion: bool
    value: float
    cost: float
    expected: float
    best_expected: float

    @property
    def reward(self) -> float:
        """The bandit reward: a click."""
        return float(self.click)

    @property
    def regret(self) -> float:
        """Expected clicks lost against the best eligible candidate."""
        return self.best_expected - self.expected
