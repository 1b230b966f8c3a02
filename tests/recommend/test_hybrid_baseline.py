"""The item-kNN baseline among what can be served (issue 13, point 2)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.build import build_graph
from kg.records import Dataset, Event, Product, User
from recommend.hybrid.baseline import BASELINE, baseline_config, pool_scores
from recommend.hybrid.blend import Blend
from recommend.hybrid.components import CfComponent
from recommend.hybrid.config import CfConfig, HybridConfig
from recommend.hybrid.select import choose_served
from tests.recommend.pools import full_pool, held_out


def test_the_baseline_takes_the_weighting_the_tuning_put_first_at_the_largest_k() -> None:
    config = HybridConfig()
    trials = {"itemknn,cosine,K=200,tau=None": {"ndcg": 0.30},
              "itemknn,tfidf,K=200,tau=None": {"ndcg": 0.35},
              "itemknn,tfidf,K=50,tau=None": {"ndcg": 0.90},  # not the baseline's K
              "itemknn,bm25,K=200,tau=5.0": {"ndcg": 0.99}}  # nor its recency weighting
    knn = baseline_config(config, {"trials": trials})
    assert knn is not None
    assert (knn.cf.model, knn.cf.knn_weighting, knn.cf.knn_k, knn.cf.recency_tau) == (
        "itemknn", "tfidf", 200, None)
    # untuned: the config's own weighting
    plain = baseline_config(config, None)
    assert plain is not None and plain.cf.knn_weighting == config.cf.knn_weighting
    # nothing to add when cf already is an item-kNN, or when there is no cf component
    assert baseline_config(knn, {"trials": trials}) is None
    assert baseline_config(config.updated(cf={"model": "itemknn", "knn_k": 50}), None) is None
    assert baseline_config(config.updated(components=("popularity",)), None) is None


def test_a_baseline_that_beats_the_blend_and_every_component_is_served() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 8
    rows, items = full_pool(n_users, n_items)
    target = rng.integers(0, n_items, n_users)
    rel = held_out(target, n_items)
    feats = rng.random((len(rows), 2))  # two components of noise
    truth = (items == target[rows]).astype(float) + 0.1 * rng.random(len(rows))
    only = np.ones(n_users, bool)
    blend = Blend(("a", "b"), np.array([1.0, 1.0]))
    choice, record = choose_served(blend, feats, None, rows, items, rel, only, k=3,
                                   extra={BASELINE: truth})
    assert choice == BASELINE and record["ndcg@3"][BASELINE] == pytest.approx(1.0)
    assert record["challenger"]["name"] == BASELINE


def pairs_shop(n_users: int = 160, seed: int = 0):
    """Twelve products bought in fixed pairs: a user's held-out product is the partner of
    one they kept, which item-kNN finds and a heavily regularised ALS does not."""
    rng = np.random.default_rng(seed)
    products = [Product(f"P{i}", f"thing {i}") for i in range(12)]
    users = [User(str(u)) for u in range(n_users)]
    events = []
    for u in range(n_users):
        for t, pair in enumerate(rng.choice(6, 2, replace=False)):
            for i in (2 * pair, 2 * pair + 1):
                events.append(Event(str(u), f"P{i}", "product", "purchase", ts=float(t)))
    return build_graph(Dataset(products=products, users=users, events=events), progress=False)


def test_the_build_serves_the_baseline_as_its_cf_component_where_it_validates_best() -> None:
    from cf.item_knn import NeighbourItemKNN
    from recommend.hybrid.fit import fit_hybrid
    from recommend.hybrid.tune import alone_top_k

    g = pairs_shop()
    config = HybridConfig(components=("cf", "popularity"),
                          cf=CfConfig(model="als", als_reg=1e4, als_factors=2))
    model = fit_hybrid(g, config)
    chosen = model.info["selection"]
    assert chosen["chosen"] == BASELINE, chosen
    assert chosen["baseline"] == f"itemknn,{config.cf.knn_weighting},K={max(config.cf.knn_ks)}"
    assert chosen["ndcg@10"][BASELINE] > max(v for n, v in chosen["ndcg@10"].items()
                                             if n != BASELINE)
    assert isinstance(model.components["cf"].model, NeighbourItemKNN)
    assert model.config.cf.model == "itemknn" and model.config.cf.recency_tau is None
    assert model.blend.names == ("cf", "popularity") and model.blend.weights.tolist() == [1, 0]
    # served: the item-kNN's own ranking (up to the order of equal scores)
    users = np.arange(10)
    knn = model.components["cf"].scores(users)
    served = np.take_along_axis(knn, model.top_k(users, 3), axis=1)
    alone = np.take_along_axis(knn, alone_top_k(model.components["cf"], g, users, 3), axis=1)
    assert np.allclose(served, alone)


def test_pool_scores_reads_each_fold_from_its_own_model() -> None:
    g = pairs_shop(n_users=30)
    comp = CfComponent.fit(g, kind="itemknn", params={**HybridConfig().cf_params(),
                                                       "recency_tau": None})
    users = np.array([3, 7, 11])
    rows = np.array([0, 0, 2, 3, 5])  # fold 0: users 3, 3, 11; fold 1: users 3, 11
    items = np.array([1, 4, 2, 0, 9])
    only = np.array([True, False, True, True, True, False])
    out = pool_scores([comp, comp], users, rows, items, only)
    full = comp.scores(users)
    assert out.tolist() == [full[0, 1], full[0, 4], full[2, 2], full[0, 0], 0.0]
