"""Run a policy in the simulator and keep the per-impression record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from ads.policies.base import Policy
from ads.simulator import AdSimulator, BudgetsExhausted


@dataclass(frozen=True)
class RunResult:
    """Per-impression outcomes of one policy run."""

    policy: str
    clicks: np.ndarray  # (n,) 0/1
    conversions: np.ndarray  # (n,) 0/1
    value: np.ndarray  # (n,) revenue per impression
    cost: np.ndarray  # (n,) spend per impression
    expected: np.ndarray  # (n,) true click probability of the shown ad
    best_expected: np.ndarray  # (n,) of the best eligible candidate

    @property
    def n(self) -> int:
        return len(self.clicks)

    @property
    def ctr(self) -> float:
        return float(self.clicks.mean()) if self.n else 0.0

    @property
    def cumulative_regret(self) -> np.ndarray:
        """Expected clicks lost against the per-slot oracle, accumulated."""
        return np.cumsum(self.best_expected - self.expected)

    def regret_growth_exponent(self) -> float:
        """Slope of log regret vs log t over the second half: < 1 means sub-linear growth."""
        r = self.cumulative_regret
        t = np.arange(1, self.n + 1)
        half = slice(self.n // 2, None)
        return float(np.polyfit(np.log(t[half]), np.log(np.maximum(r[half], 1e-12)), 1)[0])

    def summary(self) -> dict[str, float]:
        """The figures of the printed table."""
        return {
            "impressions": self.n,
            "ctr": self.ctr,
            "clicks": int(self.clicks.sum()),
            "conversions": int(self.conversions.sum()),
            "revenue": float(self.value.sum()),
            "spend": float(self.cost.sum()),
            "regret": float(self.cumulative_regret[-1]) if self.n else 0.0,
            "regret_exponent": self.regret_growth_exponent() if self.n > 10 else float("nan"),
        }


def run_policy(
    sim: AdSimulator,
    policy: Policy,
    n_impressions: int,
    *,
    learn: bool = True,
    label: str | None = None,
    progress: bool = False,
) -> RunResult:
    """Show ``n_impressions`` ads chosen by ``policy`` (stops early if budgets run out)."""
    name = label or policy.name
    cols = np.zeros((6, n_impressions))
    done = 0
    for i in tqdm(range(n_impressions), disable=not progress, desc=name):
        try:
            ctx = sim.next_context()
        except BudgetsExhausted:
            break
        action = policy.choose(ctx)
        fb = sim.step(action)
        if learn:
            policy.update(ctx, action, fb.reward)
        cols[:, i] = (fb.click, fb.conversion, fb.value, fb.cost, fb.expected, fb.best_expected)
        done = i + 1
    c = cols[:, :done]
    return RunResult(name, c[0], c[1], c[2], c[3], c[4], c[5])
