"""Per-component candidate quotas: sized by each component's own recall, within a budget,
kept through the config and taken by the pool."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.hybrid.candidates import gather
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.quotas import (
    component_sizes,
    configured_quotas,
    pool_quotas,
    quota_budget,
)
from recommend.hybrid.select import candidate_size


def test_the_slots_go_to_the_component_that_finds_the_held_out_items() -> None:
    rng = np.random.default_rng(0)
    finder = rng.integers(0, 300, 500).astype(float)  # every item within its top 300
    blind = rng.integers(1000, 5000, 500).astype(float)  # none in reach
    quotas, recall = pool_quotas(np.column_stack([blind, finder, blind]), target=0.9,
                                 step=30, budget=600)
    assert quotas[0] == quotas[2] == 30  # the floor: each one's best still comes
    assert quotas[1] >= 270 and recall >= 0.9
    assert recall == pytest.approx((finder < quotas[1]).mean())


def test_the_budget_and_a_recall_nothing_more_brings_stop_the_sizing() -> None:
    ranks = np.column_stack([np.arange(1000.0), np.arange(1000.0)])
    quotas, recall = pool_quotas(ranks, target=0.99, step=50, budget=400)
    # the same list twice: the second brings nothing the first has not
    assert quotas.tolist() == [350, 50] and recall == pytest.approx(0.35)
    unreachable = np.full((40, 2), np.inf)
    unreachable[:10, 0] = 3.0
    quotas, recall = pool_quotas(unreachable, target=0.9, step=30, budget=10**6)
    assert quotas.tolist() == [30, 30] and recall == 0.25  # no component has the others


def test_held_out_items_deep_in_every_list_are_still_reached() -> None:
    # a sparse catalogue: no component's next 30 slots hold a held-out item, yet the
    # first one finds them all by its 900th, the second by its 4,000th
    rng = np.random.default_rng(1)
    near = rng.uniform(100, 900, 400)
    far = rng.uniform(500, 4000, 400)
    quotas, recall = pool_quotas(np.column_stack([far, near]), target=0.9, step=30,
                                 budget=1200)
    assert recall >= 0.9 and quotas.sum() <= 1200
    assert quotas[1] > quotas[0] == 30  # the slots went to the list that finds them sooner
    assert recall == pytest.approx(((far < quotas[0]) | (near < quotas[1])).mean())
    # a budget too small for the next item found stops the sizing, within it
    quotas, recall = pool_quotas(np.column_stack([far, near]), target=0.9, step=30,
                                 budget=150)
    assert quotas.sum() <= 150 and recall == pytest.approx((near < quotas[1]).mean())


def test_the_quotas_grow_from_the_uniform_size_and_the_default_budget_keeps_it() -> None:
    rng = np.random.default_rng(2)
    ranks = np.column_stack([rng.uniform(0, 3000, 300), rng.uniform(0, 900, 300)])
    # the largest uniform size short of the recall, the default budget: the pool as it was
    quotas, recall = pool_quotas(ranks, target=0.9, step=30, budget=2 * 200, start=200)
    assert quotas.tolist() == [200, 200]
    assert recall == pytest.approx((ranks.min(axis=1) < 200).mean())
    # a larger budget adds slots, never taking a component below the uniform size
    quotas, recall = pool_quotas(ranks, target=0.9, step=30, budget=2000, start=200)
    assert quotas.min() >= 200 and quotas.sum() <= 2000 and recall >= 0.9


def test_the_budget_is_configured_or_the_largest_uniform_pool() -> None:
    config = HybridConfig()
    assert quota_budget(config, 6) == 6 * max(config.blend.candidate_sizes)
    sized = config.updated(blend={"candidate_budget": 5000})
    assert quota_budget(sized, 6) == 5000
    assert HybridConfig.from_dict(sized.to_dict()).blend.candidate_budget == 5000
    with pytest.raises(ValueError, match="candidate_budget"):
        config.updated(blend={"candidate_budget": -1})


def test_a_budget_grows_the_pool_to_the_recall_and_stops_there() -> None:
    # a sparse catalogue: the largest uniform pool (6 x 200) holds under half of the
    # held-out items, the first list holds them all by its 2,400th, the others rarely
    rng = np.random.default_rng(3)
    ranks = np.column_stack([rng.uniform(0, 2400, 600),
                             *[rng.uniform(0, 20000, 600) for _ in range(5)]])
    config = HybridConfig().updated(blend={"candidate_budget": 5000})
    sizes, target = config.blend.candidate_sizes, config.blend.candidate_recall
    size, recall = candidate_size(ranks.min(axis=1), sizes, target)
    assert size == max(sizes) and recall[str(size)] < 0.5
    quotas, held = pool_quotas(ranks, target=target, step=min(sizes),
                               budget=quota_budget(config, ranks.shape[1]), start=size)
    assert held >= target and quotas.sum() <= config.blend.candidate_budget
    assert quotas.min() >= size and quotas[0] > size
    # the smallest pool the rule finds: one step less on the grown list falls short
    less = quotas.copy()
    less[0] -= min(sizes)
    assert (ranks < less).any(axis=1).mean() < target
    assert held == pytest.approx((ranks < quotas).any(axis=1).mean())


def test_no_held_out_pair_and_a_bad_step_are_handled() -> None:
    assert pool_quotas(np.zeros((0, 3)), target=0.9, step=30, budget=90)[1] == 0.0
    with pytest.raises(ValueError, match="step"):
        pool_quotas(np.zeros((2, 2)), target=0.9, step=0, budget=90)


def test_the_config_keeps_one_quota_per_configured_component() -> None:
    config = HybridConfig(components=("cf", "graph", "popularity"))
    config = config.updated(blend={"candidates_per_component": 60})
    assert component_sizes(config, ("cf", "popularity")) == [60, 60]  # no quotas: uniform
    sized = config.updated(blend={"candidate_quotas": configured_quotas(
        config, {"cf": 300, "popularity": 30})})
    assert sized.blend.candidate_quotas == (300, 60, 30)
    assert component_sizes(sized, ("popularity", "cf")) == [30, 300]
    again = HybridConfig.from_dict(sized.to_dict())
    assert component_sizes(again, ("cf", "graph")) == [300, 60]
    wrong = config.updated(blend={"candidate_quotas": (30, 30)})
    with pytest.raises(ValueError, match="candidate_quotas"):
        component_sizes(wrong, ("cf",))
    with pytest.raises(ValueError, match="candidate_quotas"):
        config.updated(blend={"candidate_quotas": (30, 0, 30)})


def test_the_pool_takes_each_component_s_own_top_n() -> None:
    a = np.array([[9.0, 8.0, 7.0, 6.0, 0.0, 0.0]])
    b = np.array([[0.0, 0.0, 0.0, 1.0, 3.0, 2.0]])
    got = gather({"a": a, "b": b}, np.ones((1, 6), bool), n=[3, 1])
    assert got.items.tolist() == [0, 1, 2, 4]
    assert gather({"a": a, "b": b}, np.ones((1, 6), bool), n=1).items.tolist() == [0, 4]
    with pytest.raises(ValueError, match="candidate sizes"):
        gather({"a": a, "b": b}, np.ones((1, 6), bool), n=[3])
