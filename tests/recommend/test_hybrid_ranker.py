"""The learned (gradient-boosted) ranker and the session component of the hybrid."""

from __future__ import annotations

import numpy as np

from kg.build import build_graph
from kg.records import Dataset, Event, Product, User
from recommend.hybrid.blend import Blend, fit_blend
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.ranker import design_matrix, load_booster, save_booster
from recommend.hybrid.session import SessionComponent
from tests.recommend.pools import full_pool, held_out


def test_design_matrix_ranks_each_component_within_its_user() -> None:
    raw = np.array([[3.0, 0.0], [5.0, 1.0], [1.0, 9.0], [2.0, 2.0]])
    rows = np.array([0, 0, 0, 1])
    d = design_matrix(raw, raw / 10, rows, 2, history_sizes=np.array([3, 0]))
    assert d.shape == (4, 7)
    assert d[:, 4].tolist() == [1.0, 0.0, 2.0, 0.0]  # component 0: 5 > 3 > 1; user 1 alone
    assert d[:, 5].tolist() == [2.0, 1.0, 0.0, 0.0]
    assert d[:, 6].tolist() == [np.log1p(3)] * 3 + [0.0]


def interaction_world(n_users: int = 400, n_items: int = 30, seed: int = 0):
    """The held-out item is the one high on feature 0 among those LOW on feature 1: a linear
    score cannot express "0 matters only when 1 is low", trees can."""
    rng = np.random.default_rng(seed)
    rows, items = full_pool(n_users, n_items)
    f0, f1 = rng.random(len(rows)), rng.random(len(rows))
    value = np.where(f1 < 0.5, f0, f0 - 1.0).reshape(n_users, n_items)
    target = value.argmax(axis=1)
    rel = held_out(target, n_items)
    feats = np.stack([f0, f1], axis=1)
    design = design_matrix(feats, feats, rows, n_users, np.full(n_users, 5))
    return feats, design, rows, items, rel


def test_gbdt_wins_where_components_interact_and_round_trips_as_text(tmp_path) -> None:
    feats, design, rows, items, rel = interaction_world()
    blend = fit_blend(feats, rows, items, rel, ("a", "b"), k=10, design=design)
    cv = blend.validation["cv_ndcg@10"]
    assert set(cv) == {"coordinate", "logistic", "listwise", "gbdt"}
    linear = max(cv["coordinate"], cv["logistic"], cv["listwise"])
    assert blend.kind == "gbdt" and cv["gbdt"] > linear + 0.1
    save_booster(blend.booster, tmp_path)
    again = Blend.from_json(blend.to_json(), load_booster(tmp_path))
    np.testing.assert_allclose(again.score(feats, design), blend.score(feats, design))
    assert (tmp_path / "hybrid_ranker.txt").read_text().startswith("tree")


def session_graph():
    """Users 1-3 take A then B within minutes; user 4 took A a day before C."""
    products = [Product(p, f"item {p}") for p in "ABCD"]
    users = [User(str(u)) for u in range(1, 6)]
    events = [e for u in ("1", "2", "3") for e in (
        Event(u, "A", "product", "purchase", ts=1000.0),
        Event(u, "B", "product", "purchase", ts=1060.0))]
    events += [Event("4", "A", "product", "purchase", ts=0.0),
               Event("4", "C", "product", "purchase", ts=90_000.0),
               Event("5", "A", "product", "view", ts=5.0)]
    return build_graph(Dataset(products=products, users=users, events=events), progress=False)


def test_session_component_scores_what_followed_soon_after(tmp_path) -> None:
    g = session_graph()
    comp = SessionComponent.fit(g, window=3600.0, max_lag=10, recency_tau=5.0)
    assert comp is not None
    scores = comp.scores(np.array([g.index("user:5")]))[0]
    b, c = g.index("product:B"), g.index("product:C")
    assert scores[b] > 0 and scores[c] == 0  # C came a day later: outside the window
    comp.save(tmp_path)
    again = SessionComponent.load(tmp_path, g, HybridConfig())
    np.testing.assert_allclose(again.scores(np.arange(5)), comp.scores(np.arange(5)))
    assert SessionComponent.fit(g, window=1.0, max_lag=10, recency_tau=5.0) is None


def test_a_cross_validation_fold_with_nothing_to_rank_still_fits() -> None:
    """Users with no candidates can make one cross-validation fold's training side empty (a
    generated dataset in tests/property reached it): that side gets equal weights, and every
    fitter still competes."""
    feats, design, rows, items, rel = interaction_world()
    n_users = rel.shape[0]
    only = rows == 0  # every candidate is user 0's; the other users have nothing to rank
    for seed in range(4):  # fold draws that put user 0 on either side
        blend = fit_blend(feats[only], rows[only], items[only], rel, ("a", "b"), k=10,
                          design=design[only], seed=seed)
        assert np.isfinite(blend.score(feats[only], design[only])).all()
        assert n_users > 1 and set(blend.validation["cv_ndcg@10"]) <= {
            "coordinate", "logistic", "listwise", "gbdt"}


def test_trees_on_too_few_candidates_give_way_to_equal_weights() -> None:
    """A handful of candidates (a generated dataset in tests/property: LightGBM's bagging kept
    no row of them) cannot grow a split: the trees' blend is equal weights."""
    feats, design, rows, items, rel = interaction_world()
    few = np.flatnonzero(rows == 0)[:3]
    blend = fit_blend(feats[few], rows[few], items[few], rel, ("a", "b"), k=10,
                      design=design[few], fitter="gbdt")
    assert blend.kind == "coordinate" and np.allclose(blend.weights, 0.5)
