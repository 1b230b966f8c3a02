"""Cumulative regret and reward curves per policy, as a PNG; and the printed table."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np

from ads.runner import RunResult


def plot_runs(results: Sequence[RunResult], path: str | os.PathLike[str]) -> None:
    """Write a two-panel PNG: cumulative regret and cumulative clicks against impressions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kg.atomic import atomic_write_bytes

    fig, (ax_regret, ax_reward) = plt.subplots(1, 2, figsize=(12, 4.5))
    for r in results:
        t = np.arange(1, r.n + 1)
        ax_regret.plot(t, r.cumulative_regret, label=r.policy)
        ax_reward.plot(t, np.cumsum(r.clicks), label=r.policy)
    ax_regret.set(title="Cumulative regret (expected clicks lost)", xlabel="impressions")
    ax_reward.set(title="Cumulative clicks", xlabel="impressions")
    for ax in (ax_regret, ax_reward):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def format_table(results: Sequence[RunResult]) -> str:
    """A fixed-width table: CTR, clicks, conversions, revenue, spend, regret per policy."""
    head = f"{'policy':<18}{'CTR':>8}{'clicks':>8}{'conv':>7}{'revenue':>11}{'spend':>9}"
    lines = [head + f"{'regret':>10}{'exp':>6}", "-" * (len(head) + 16)]
    for r in results:
        s = r.summary()
        lines.append(
            f"{r.policy:<18}{s['ctr']:>8.4f}{s['clicks']:>8d}{s['conversions']:>7d}"
            f"{s['revenue']:>11.1f}{s['spend']:>9.1f}{s['regret']:>10.1f}"
            f"{s['regret_exponent']:>6.2f}"
        )
    return "\n".join(lines)
