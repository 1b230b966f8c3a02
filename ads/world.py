"""The ads world: users and promoted products as vectors in one taste space.

``synthetic_world`` draws personas (segments) and ads around them; ``world_from_profiles``
(and ``world_from_profile_table``, its form for :mod:`recommend.profiles` output)
grounds the world in the knowledge graph: user interest rows and product feature rows
(category/brand one-hots, the same columns) are projected by one truncated SVD, so a
user's affinity to an ad is the cosine of their interests and the product's features.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from recommend.profiles.features import ProfileTable
    from recommend.profiles.inputs import ProfileInputs


@dataclass(frozen=True)
class AdWorld:
    """Everything the simulator needs to know about users, ads and campaigns."""

    user_vecs: np.ndarray  # (n_users, k), unit rows
    user_segment: np.ndarray  # (n_users,) int
    user_activity: np.ndarray  # (n_users,) probability a session belongs to the user
    ad_vecs: np.ndarray  # (n_ads, k), unit rows
    ad_quality: np.ndarray  # (n_ads,) creative quality, added to the click logit
    ad_price: np.ndarray  # (n_ads,) conversion value
    ad_campaign: np.ndarray  # (n_ads,) int
    campaign_budget: np.ndarray  # (n_campaigns,) spend limit (inf: none)
    campaign_cpc: np.ndarray  # (n_campaigns,) cost per click
    ad_ids: tuple[str, ...] = field(default=())  # product node ids, when grounded

    @property
    def n_users(self) -> int:
        return len(self.user_vecs)

    @property
    def n_ads(self) -> int:
        return len(self.ad_vecs)

    @property
    def n_segments(self) -> int:
        return int(self.user_segment.max()) + 1


def _unit(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norm, 1e-12)


def _campaigns(
    rng: np.random.Generator, n_ads: int, n_campaigns: int, budget: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ad_campaign = rng.integers(n_campaigns, size=n_ads)
    budgets = np.full(n_campaigns, np.inf if budget is None else float(budget))
    cpc = rng.uniform(0.2, 1.0, size=n_campaigns)
    return ad_campaign, budgets, cpc


def synthetic_world(
    *,
    n_users: int = 2000,
    n_ads: int = 200,
    n_segments: int = 6,
    dim: int = 8,
    n_campaigns: int = 20,
    campaign_budget: float | None = None,
    quality_scale: float = 0.3,
    seed: int = 0,
) -> AdWorld:
    """A world of persona-clustered users and ads (no graph needed; for tests and benches)."""
    rng = np.random.default_rng(seed)
    centroids = _unit(rng.normal(size=(n_segments, dim)))
    segment = rng.integers(n_segments, size=n_users)
    users = _unit(centroids[segment] + 0.5 * rng.normal(size=(n_users, dim)))
    ad_seg = rng.integers(n_segments, size=n_ads)
    ads = _unit(centroids[ad_seg] + 0.7 * rng.normal(size=(n_ads, dim)))
    activity = rng.pareto(2.0, size=n_users) + 1.0
    ad_campaign, budgets, cpc = _campaigns(rng, n_ads, n_campaigns, campaign_budget)
    return AdWorld(
        user_vecs=users,
        user_segment=segment,
        user_activity=activity / activity.sum(),
        ad_vecs=ads,
        ad_quality=quality_scale * rng.normal(size=n_ads),
        ad_price=np.round(rng.lognormal(3.0, 0.6, size=n_ads), 2),
        ad_campaign=ad_campaign,
        campaign_budget=budgets,
        campaign_cpc=cpc,
    )


def world_from_profiles(
    user_interests: sp.spmatrix | np.ndarray,
    product_features: sp.spmatrix | np.ndarray,
    *,
    user_segment: np.ndarray,
    product_prices: np.ndarray,
    user_activity: np.ndarray | None = None,
    product_ids: tuple[str, ...] = (),
    n_ads: int = 200,
    dim: int = 8,
    n_campaigns: int = 20,
    campaign_budget: float | None = None,
    quality_scale: float = 0.3,
    seed: int = 0,
) -> AdWorld:
    """A world grounded in profiles: users × F interests and products × F features.

    The promoted products are ``n_ads`` products drawn at random; a missing price
    (NaN) becomes the median price.
    """
    from sklearn.decomposition import TruncatedSVD

    u = sp.csr_matrix(user_interests, dtype=float)
    p = sp.csr_matrix(product_features, dtype=float)
    if u.shape[1] != p.shape[1]:
        raise ValueError(f"world_from_profiles: {u.shape[1]} interest vs {p.shape[1]} columns")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(p.shape[0], size=min(n_ads, p.shape[0]), replace=False))
    svd = TruncatedSVD(n_components=min(dim, u.shape[1] - 1), random_state=seed)
    svd.fit(sp.vstack([u, p[chosen]]))
    prices = np.asarray(product_prices, dtype=float)[chosen]
    prices = np.where(np.isnan(prices), np.nanmedian(prices), prices)
    activity = np.ones(u.shape[0]) if user_activity is None else np.asarray(user_activity, float)
    ad_campaign, budgets, cpc = _campaigns(rng, len(chosen), n_campaigns, campaign_budget)
    return AdWorld(
        user_vecs=_unit(svd.transform(u)),
        user_segment=np.asarray(user_segment, dtype=np.int64),
        user_activity=activity / activity.sum(),
        ad_vecs=_unit(svd.transform(p[chosen])),
        ad_quality=quality_scale * rng.normal(size=len(chosen)),
        ad_price=prices,
        ad_campaign=ad_campaign,
        campaign_budget=budgets,
        campaign_cpc=cpc,
        ad_ids=tuple(product_ids[i] for i in chosen) if product_ids else (),
    )


def world_from_profile_table(table: ProfileTable, inputs: ProfileInputs, **kwargs: Any) -> AdWorld:
    """A world grounded in the graph's profiles: users' category/brand interest shares
    against each product's category (with ancestors) and brand, sessions in proportion to
    each user's events, segments from ``table.segments`` (one segment if not clustered).
    Keyword arguments go to :func:`world_from_profiles`."""
    from recommend.profiles.features import row_shares

    interests = sp.hstack([table.categories, table.brands]).tocsr()
    features = sp.hstack(
        [row_shares(inputs.product_category), row_shares(inputs.product_brand)]
    ).tocsr()
    segments = np.zeros(len(table), np.int64) if table.segments is None else table.segments
    return world_from_profiles(
        interests,
        features,
        user_segment=segments,
        product_prices=inputs.product_price,
        user_activity=inputs.n_events + 1.0,
        product_ids=tuple(inputs.product_ids),
        **kwargs,
    )
