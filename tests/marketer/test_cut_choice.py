"""The build's time cut of its own graph, and the audience's weights chosen on it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from kg.interactions import NO_TIME, PRODUCT_RELATIONS, latest_times
from recommend.hybrid.component import FitShared
from recommend.hybrid.path_component import PathComponent
from recommend.marketer.audience import activity, audience_parts, top_users
from recommend.marketer.columns import TAKES
from recommend.marketer.cut_choice import (
    choose_on_cut,
    grid_recall,
    judged_users,
    pick_weights,
    sampled_recall,
)
from recommend.marketer.propensity import take_rate
from recommend.marketer.timecut import time_cut
from recommend.recommender import Recommender

GRID = [(0.3, 0.0), (0.3, 1.0), (0.3, 4.0)]


@pytest.fixture(scope="module")
def model(market_artifact):
    return Recommender.load(market_artifact).model


def test_the_graph_before_the_cut_holds_nothing_from_after_it(model) -> None:
    graph = model.graph
    cut = time_cut(graph, 0.7)
    assert cut is not None
    times = latest_times(graph, TAKES, first=True).data
    assert cut.cut == pytest.approx(np.quantile(times[times > NO_TIME], 0.7))
    for block in cut.train.edge_blocks():
        assert not (block.ts >= cut.cut).any(), block.relation
    for kind in ("user", "product", "post"):
        assert cut.train.num_nodes(kind) == graph.num_nodes(kind)
    first_take = latest_times(graph, TAKES, first=True).tocsr()
    first_event = latest_times(graph, PRODUCT_RELATIONS, first=True).tocsr()
    taken = cut.taken.tocoo()
    assert taken.nnz > 0
    for u, i in zip(taken.row.tolist(), taken.col.tolist(), strict=True):
        assert first_take[u, i] >= cut.cut and first_event[u, i] >= cut.cut  # new after it
    # every take after the cut of a pair with no earlier event is a taker
    late = first_take.tocoo()
    new = [(u, i) for u, i, t in zip(late.row, late.col, late.data, strict=True)
           if t >= cut.cut and first_event[u, i] >= cut.cut]
    assert len(new) == taken.nnz
    known = np.zeros(graph.num_nodes("user"), bool)
    known[: 50] = True
    kept = cut.known_takers(known)
    assert kept.nnz == int(known[taken.row].sum())


def _takers(model, ranking, n_products: int = 20, per: int = 8) -> sp.csc_matrix:
    """Each of products 0..n_products-1's top ``per`` known candidates by ``ranking(i)``."""
    n_users, n_items = model.seen_.shape
    known = np.diff(model.seen_.indptr) > 0
    rows, cols = [], []
    for i in range(n_products):
        scores = np.where(audience_parts(model, i).cand & known, ranking(i), -np.inf)
        top = top_users(scores, per)
        rows += top.tolist()
        cols += [i] * len(top)
    return sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))


def test_the_recall_is_the_share_of_takers_in_the_top_5_percent(model) -> None:
    takers = _takers(model, lambda i: audience_parts(model, i).score(0.3))
    recall, products, size = grid_recall(model, takers, GRID, n_products=50, min_products=10,
                                         min_takers=5, seed=0)
    assert products == 20 and size == model.graph.num_nodes("user") // 20
    known = np.diff(model.seen_.indptr) > 0
    rate = take_rate(model.graph)
    for j, i in enumerate(range(20)):  # one setting written out
        scores = audience_parts(model, i).score(0.3, 1.0, rate)
        scores[~known] = -np.inf
        top = top_users(scores, size, activity(model))
        truth = takers.indices[takers.indptr[i]:takers.indptr[i + 1]]
        assert recall[GRID[1]][j] == pytest.approx(np.isin(top, truth).sum() / len(truth))


def test_takers_by_the_rate_choose_the_rate_and_by_the_taste_keep_it_off(model) -> None:
    rate = take_rate(model.graph)
    noise = np.random.default_rng(0).random(len(rate)) * 1e-9
    by_rate = _takers(model, lambda i: rate + noise)
    recall, _, _ = grid_recall(model, by_rate, GRID, n_products=50, min_products=10,
                               min_takers=5, seed=0)
    chosen, best, gain, margin = pick_weights(recall, GRID[0])
    assert chosen == best and best[1] > 0 and gain > margin
    by_taste = _takers(model, lambda i: audience_parts(model, i).score(0.3))
    recall, _, _ = grid_recall(model, by_taste, GRID, n_products=50, min_products=10,
                               min_takers=5, seed=0)
    assert pick_weights(recall, GRID[0])[0] == GRID[0]


def test_a_gain_within_the_noise_keeps_the_default() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(30)
    recall = {GRID[0]: base.tolist(), GRID[1]: (base + rng.normal(0, 0.2, 30) + 0.01).tolist()}
    chosen, best, gain, margin = pick_weights(recall, GRID[0])
    assert best == GRID[1] and chosen == GRID[0] and gain <= margin
    recall[GRID[1]] = (base + 0.05).tolist()  # the same gain on every product: clear
    assert pick_weights(recall, GRID[0])[0] == GRID[1]


def test_too_few_products_with_takers_keep_the_weights(model) -> None:
    takers = _takers(model, lambda i: audience_parts(model, i).score(0.3), n_products=4)
    why = grid_recall(model, takers, GRID, n_products=50, min_products=10, min_takers=5,
                      seed=0)
    assert isinstance(why, str) and "4 products" in why


def _shared(model) -> FitShared:
    states = {n: c.state() for n, c in model.components.items()
              if isinstance(c, PathComponent)}
    return FitShared(model.components.get("content"), path_states=states)


def test_the_build_step_serves_its_choice(model) -> None:
    config = model.config.updated(audience={
        "category_weights": (0.0, 0.3), "category_weight": 0.3, "activity_weight": 0.0,
        "activity_weights": (0.0, 1.0)})
    tuned, record = choose_on_cut(model.graph, config, model.blend, _shared(model),
                                  min_products=3, min_takers=2)
    assert "chosen" in record, record
    served = (tuned.audience.category_weight, tuned.audience.activity_weight)
    assert served[0] in (0.0, 0.3) and served[1] in (0.0, 1.0)
    assert record["chosen"] == f"b={served[0]:g} a={served[1]:g}"
    if record["gain_over_default"] <= record["two_standard_errors"]:
        assert record["chosen"] == record["default"]
    assert record["recall"]["chosen"] >= record["recall"]["default"]
    assert len(record["recall"]["top"]) == 4  # 2 b x 2 a, in one pass
    assert record["rate_before_cut"]["cut"] < record["cut"]  # the probe's own return model
    assert tuned.updated(audience={"category_weight": 0.3, "activity_weight": 0.0}) == config


def test_one_setting_is_kept_without_a_cut(model) -> None:
    config = model.config.updated(audience={
        "category_weights": (), "activity_weights": (), "activity_weight": 0.0})
    tuned, record = choose_on_cut(model.graph, config, model.blend, _shared(model))
    assert "one setting" in record["note"] and tuned == config


def test_the_probe_leaves_out_a_linear_blend_s_zero_weights(model) -> None:
    from recommend.hybrid.blend import Blend
    from recommend.marketer.cut_choice import audience_blend

    names = ("cf", "graph", "popularity")
    linear = Blend(names, np.array([0.6, 0.0, 0.4]), "coordinate")
    kept = audience_blend(linear)
    assert kept.names == ("cf", "popularity") and list(kept.weights) == [0.6, 0.4]
    assert audience_blend(Blend(names, np.zeros(3), "fixed")).names == names
    gbdt = Blend(names, np.array([0.6, 0.0, 0.4]), "gbdt")
    assert audience_blend(gbdt) is gbdt  # its trees use every component
    served = model.blend
    if served.kind != "gbdt" and (served.weights == 0).any():  # the same audience without
        probe = dataclasses.replace(model, blend=audience_blend(served))
        for i in range(5):
            np.testing.assert_allclose(audience_parts(probe, i).score(0.3),
                                       audience_parts(model, i).score(0.3))


def test_a_product_is_judged_on_its_takers_and_a_sample_standing_for_the_rest() -> None:
    rng = np.random.default_rng(3)
    pool = rng.random(5000) < 0.8
    truth = np.sort(rng.choice(np.flatnonzero(pool), 40, replace=False))
    users, weights = judged_users(pool, truth, 10_000, np.random.default_rng(0))
    assert (users == np.flatnonzero(pool)).all() and (weights == 1).all()  # all fit: all
    users, weights = judged_users(pool, truth, 1000, np.random.default_rng(0))
    again = judged_users(pool, truth, 1000, np.random.default_rng(0))
    assert (users == again[0]).all() and len(users) == 1000 and (np.diff(users) > 0).all()
    assert pool[users].all() and np.isin(truth, users).all()
    assert (weights[np.isin(users, truth)] == 1).all()
    assert weights.sum() == pytest.approx(pool.sum())  # the sample stands for the pool


def test_the_sampled_recall_is_exact_unsampled_and_close_sampled() -> None:
    rng = np.random.default_rng(4)
    n, size = 100_000, 5000
    scores = rng.normal(size=n)
    scores[rng.random(n) < 0.3] = 0.0  # ties, broken by activity then index
    scores[rng.random(n) < 0.05] = -np.inf
    active = rng.integers(0, 20, n).astype(float)
    pool = np.isfinite(scores)
    truth = np.sort(rng.choice(np.flatnonzero(pool), 300, replace=False,
                               p=np.exp(scores[pool]) / np.exp(scores[pool]).sum()))
    exact = int(np.isin(top_users(scores, size, active), truth).sum())
    assert 0 < exact < len(truth)
    everyone = np.arange(n)
    assert sampled_recall(scores, np.ones(n), np.isin(everyone, truth), active, size) == exact
    found = []
    for seed in range(5):
        users, weights = judged_users(pool, truth, 20_000, np.random.default_rng(seed))
        found.append(sampled_recall(scores[users], weights, np.isin(users, truth),
                                    active[users], size))
    assert abs(np.mean(found) - exact) <= 0.03 * len(truth), (found, exact)


def test_a_sampled_judge_agrees_with_the_whole_on_the_choice(model) -> None:
    takers = _takers(model, lambda i: audience_parts(model, i).score(0.3))
    whole = grid_recall(model, takers, GRID, n_products=50, min_products=10, min_takers=5,
                        seed=0)
    assert whole == grid_recall(model, takers, GRID, n_products=50, min_products=10,
                                min_takers=5, seed=0, max_users=10**9)
    n = model.graph.num_nodes("user")
    part = grid_recall(model, takers, GRID, n_products=50, min_products=10, min_takers=5,
                       seed=0, max_users=n // 2)
    assert part[1:] == whole[1:]
    for w in GRID:  # the same products, each a sampled estimate of the whole's recall
        assert abs(np.mean(part[0][w]) - np.mean(whole[0][w])) < 0.1, w
    assert pick_weights(part[0], GRID[0])[1] == pick_weights(whole[0], GRID[0])[1]
