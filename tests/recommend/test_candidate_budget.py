"""Given a budget, the build sizes the candidate pool itself: from the largest uniform pool up
until it holds ``blend.candidate_recall`` of the validation items, within
``blend.candidate_budget``, and records what it found; by default (0) the pool is uniform."""

from __future__ import annotations

from recommend.hybrid.config import BlendConfig, CfConfig, HybridConfig, SessionConfig
from recommend.hybrid.encoders import LsaEncoder
from recommend.hybrid.fit import fit_hybrid
from recommend.hybrid.quotas import component_sizes
from tests.recommend.shops import two_group_shop


def _fitted(budget: int) -> tuple[dict, HybridConfig]:
    # uniform sizes of 1 or 2 products a component: too few for 90% of the held-out items
    config = HybridConfig(components=("cf", "session", "popularity"),
                          blend=BlendConfig(learned_ranker=False, candidate_sizes=(1, 2),
                                            candidate_budget=budget),
                          cf=CfConfig(families=("ease",), ease_lams=(10.0,),
                                      recency_taus=(None,)),
                          session=SessionConfig(tune_windows=(3600.0,)))
    model = fit_hybrid(two_group_shop(80, 8, described=True, seed=0), config,
                       encoder=LsaEncoder(dim=8))
    return model.info, model.config


def test_a_budget_grows_the_pool_until_it_holds_the_recall_and_records_it() -> None:
    info, config = _fitted(5000)
    pool = info["candidates"]
    assert pool["per_component"] == 2 and pool["recall"]["2"] < 0.9  # uniform: short
    assert pool["quota_recall"] >= 0.9 == pool["target"]
    assert pool["budget"] == 5000 and pool["slots"] <= pool["budget"]
    sizes = component_sizes(config, config.components)
    assert sum(sizes) == pool["slots"] > 3 * 2
    assert dict(zip(config.components, sizes, strict=True)) == pool["quotas"]
    # the pool the blend was fitted and judged on is the sized one
    assert info["selection"]["candidate_recall"] > pool["recall"]["2"]


def test_the_default_zero_budget_keeps_the_uniform_pool() -> None:
    info, config = _fitted(HybridConfig().blend.candidate_budget)
    pool = info["candidates"]
    assert pool["slots"] == 3 * 2 and pool["quota_recall"] == pool["recall"]["2"] < 0.9
    assert component_sizes(config, config.components) == [2, 2, 2]
