"""A seeded ad-delivery simulator: sessions of slots, clicks, conversions, budgets, caps.

Click probability of ad ``a`` for user ``u`` in slot ``s`` on device ``d`` at hour ``h``::

    p = sigmoid(base + scale · ⟨u, a⟩ + quality_a) · position_bias[s] · device[d]
        · hour(h) · fatigue ** (times u has already seen a)

A click converts with ``conversion_rate`` and is worth the product's price; it costs the
campaign its cost-per-click. A campaign whose spend reached its budget, and a campaign
already shown ``frequency_cap`` times to the user, leave the candidate set: the
environment enforces both, so every policy obeys them without knowing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ads.context import AdContext, Feedback
from ads.world import AdWorld


@dataclass(frozen=True)
class SimConfig:
    """Simulator knobs (plain data)."""

    n_slots: int = 3
    n_candidates: int = 50
    position_bias: tuple[float, ...] = (1.0, 0.75, 0.55)
    device_factor: tuple[float, ...] = (1.0, 0.85, 0.7)  # mobile, desktop, tablet
    device_share: tuple[float, ...] = (0.6, 0.3, 0.1)
    base_logit: float = -2.5
    affinity_scale: float = 2.5
    fatigue: float = 0.8
    frequency_cap: int | None = None
    conversion_rate: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.position_bias) < self.n_slots:
            raise ValueError(f"SimConfig: {self.n_slots} slots need {self.n_slots} position biases")
        if len(self.device_share) != len(self.device_factor):
            raise ValueError("SimConfig: device_share and device_factor differ in length")


class BudgetsExhausted(RuntimeError):
    """No campaign has budget (or cap) left for the next session."""


class AdSimulator:
    """Yields one :class:`AdContext` per slot; :meth:`step` shows the chosen ad."""

    def __init__(self, world: AdWorld, config: SimConfig | None = None) -> None:
        self.world = world
        self.config = config or SimConfig()
        self.rng = np.random.default_rng(self.config.seed)
        self.spend = np.zeros(len(world.campaign_budget))
        self._exposures: dict[int, int] = {}
        self._campaign_views: dict[int, int] = {}
        self._ctx: AdContext | None = None
        self._session: tuple[int, int, int, np.ndarray] | None = None
        self._slot = 0
        self._clicks = 0
        k = world.user_vecs.shape[1]
        self.n_features = 2 * k + self.config.n_slots + len(self.config.device_factor) + 2

    # -- contexts -------------------------------------------------------------------
    def _eligible(self, user: int, ads: np.ndarray) -> np.ndarray:
        camp = self.world.ad_campaign[ads]
        ok = self.spend[camp] < self.world.campaign_budget[camp]
        cap = self.config.frequency_cap
        if cap is not None:
            n_c = len(self.world.campaign_budget)
            views = np.array([self._campaign_views.get(user * n_c + c, 0) for c in camp])
            ok &= views < cap
        return ads[ok]

    def _new_session(self) -> None:
        w, cfg, rng = self.world, self.config, self.rng
        if not np.any(self.spend < w.campaign_budget):
            raise BudgetsExhausted("every campaign has spent its budget")
        for _ in range(1000):  # a user capped on every campaign sees no ads: draw another
            user = int(rng.choice(w.n_users, p=w.user_activity))
            pool = self._eligible(user, np.arange(w.n_ads))
            if len(pool):
                break
        else:
            raise BudgetsExhausted("1,000 users in a row are capped on every live campaign")
        ads = rng.choice(pool, size=min(cfg.n_candidates, len(pool)), replace=False)
        hour = int(rng.integers(24))
        device = int(rng.choice(len(cfg.device_factor), p=cfg.device_share))
        self._session = (user, hour, device, ads)
        self._slot, self._clicks = 0, 0

    def exposures(self, user: int, ads: np.ndarray) -> np.ndarray:
        """How many times ``user`` has already seen each of ``ads``."""
        n = self.world.n_ads
        return np.array([self._exposures.get(user * n + int(a), 0) for a in ads], dtype=float)

    def features(self, user: int, ads: np.ndarray, slot: int, device: int) -> np.ndarray:
        """Joint rows [u⊙a, a, slot one-hot, device one-hot, log1p(exposures), 1]."""
        cfg = self.config
        u = self.world.user_vecs[user]
        a = self.world.ad_vecs[ads]
        m = len(ads)
        onehots = np.zeros((m, cfg.n_slots + len(cfg.device_factor)))
        onehots[:, slot] = 1.0
        onehots[:, cfg.n_slots + device] = 1.0
        extra = np.column_stack([np.log1p(self.exposures(user, ads)), np.ones(m)])
        return np.hstack([a * u, a, onehots, extra])

    def next_context(self) -> AdContext:
        """The context of the next slot (a new session starts after the last slot)."""
        if self._session is None or self._slot >= self.config.n_slots:
            self._new_session()
        assert self._session is not None
        user, hour, device, ads = self._session
        if self._slot > 0:
            ads = self._eligible(user, ads)
            if len(ads) == 0:
                self._slot = self.config.n_slots
                return self.next_context()
        self._ctx = AdContext(
            user=user,
            candidates=ads.astype(np.int64),
            features=self.features(user, ads, self._slot, device),
            segment=int(self.world.user_segment[user]),
            hour=hour,
            slot=self._slot,
            device=device,
            session_clicks=self._clicks,
            n_slots=self.config.n_slots,
        )
        return self._ctx

    # -- outcomes -------------------------------------------------------------------
    def click_probabilities(self, context: AdContext) -> np.ndarray:
        """The true click probability of each candidate (the oracle behind the regret)."""
        w, cfg = self.world, self.config
        ads = context.candidates
        logit = cfg.base_logit + cfg.affinity_scale * (w.ad_vecs[ads] @ w.user_vecs[context.user])
        p = 1.0 / (1.0 + np.exp(-(logit + w.ad_quality[ads])))
        hour = 0.85 + 0.3 * np.exp(-(((context.hour - 20) / 3.0) ** 2))
        p = p * cfg.position_bias[context.slot] * cfg.device_factor[context.device] * hour
        return p * cfg.fatigue ** self.exposures(context.user, ads)

    def step(self, action: int) -> Feedback:
        """Show arm ``action`` in the current context; return what happened."""
        ctx = self._ctx
        if ctx is None:
            raise RuntimeError("AdSimulator.step: call next_context() first")
        row = np.flatnonzero(ctx.candidates == action)
        if len(row) == 0:
            raise ValueError(f"AdSimulator.step: arm {action} is not an eligible candidate")
        w = self.world
        p = self.click_probabilities(ctx)
        click = bool(self.rng.random() < p[row[0]])
        conversion = click and bool(self.rng.random() < self.config.conversion_rate)
        camp = int(w.ad_campaign[action])
        cost = float(w.campaign_cpc[camp]) if click else 0.0
        self.spend[camp] += cost
        key = ctx.user * w.n_ads + action
        self._exposures[key] = self._exposures.get(key, 0) + 1
        ckey = ctx.user * len(w.campaign_budget) + camp
        self._campaign_views[ckey] = self._campaign_views.get(ckey, 0) + 1
        self._slot += 1
        self._clicks += int(click)
        self._ctx = None
        return Feedback(
            click=click,
            conversion=conversion,
            value=float(w.ad_price[action]) if conversion else 0.0,
            cost=cost,
            expected=float(p[row[0]]),
            best_expected=float(p.max()),
        )
