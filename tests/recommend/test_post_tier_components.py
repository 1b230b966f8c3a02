"""On data whose events are all on posts, the components learn from the post tier.

cf, session and popularity fit on the products named by the posts each user wrote, liked,
commented on or shared (:data:`kg.interactions.POST_TIER`) when the build's targets hold the
tier; those products are the user's history and "seen" (never recommended again, and the
user is not cold); serving's ``add()`` of a post engagement updates them exactly as a full
refresh does; and without the tier among the targets nothing changes.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from kg.build import build_graph
from kg.interactions import (
    POST_TIER,
    history_matrix,
    latest_times,
    seen_matrix,
    training_matrix,
)
from kg.records import Dataset, Event, Post, Product, User
from recommend.hybrid.blend import Blend
from recommend.hybrid.component import FitShared
from recommend.hybrid.components import CfComponent, PopularityComponent
from recommend.hybrid.config import ContentConfig, HybridConfig
from recommend.hybrid.model import HybridModel
from recommend.hybrid.session import SessionComponent
from tests.recommend.test_incremental_add import assert_same_state, full_refresh

TIER = HybridConfig().updated(split={"target_relations": (
    *HybridConfig().split.target_relations, POST_TIER)})
NOW = time.time() - 7200.0


def _world(seed: int = 0, n_users: int = 40, n_products: int = 24, n_posts: int = 60):
    """Users who only write and like posts that tag products (no user -> product event):
    each user likes posts at 10-minute steps (so the session's one-hour window sees them)."""
    rng = np.random.default_rng(seed)
    posts = [Post(f"s{j}", f"u{int(rng.integers(n_users))}", text=f"post {j}", ts=NOW - 1e5,
                  products=tuple(sorted({f"p{int(k)}" for k in rng.choice(
                      n_products, int(rng.integers(1, 3)), replace=False)})))
             for j in range(n_posts)]
    events = [Event(f"u{u}", f"s{int(s)}", "post", "like", ts=NOW - 5e4 + 600.0 * t)
              for u in range(n_users)
              for t, s in enumerate(rng.choice(n_posts, 8, replace=False))]
    return build_graph(Dataset(
        products=[Product(f"p{i}", f"thing number {i}") for i in range(n_products)],
        users=[User(f"u{i}") for i in range(n_users)], posts=posts, events=events),
        progress=False)


@pytest.fixture(scope="module")
def graph():
    return _world()


def test_seen_and_history_hold_the_tier_only_when_the_targets_do(graph) -> None:
    assert seen_matrix(graph).nnz == 0 and history_matrix(graph, 10.0).nnz == 0
    tier = training_matrix(graph, (POST_TIER,))
    seen = seen_matrix(graph, (POST_TIER,))
    assert seen.nnz == tier.nnz > 0 and set(seen.data) == {1.0}
    assert (seen != (tier != 0)).nnz == 0
    # the latest pair weighs 1, the others less, in the order of their engagements (ties:
    # by product index)
    hist = history_matrix(graph, 10.0, (POST_TIER,)).tocsr()
    times = latest_times(graph, (POST_TIER,)).tocsr()
    assert (hist != 0).nnz == seen.nnz
    for u in range(graph.num_nodes("user")):
        h, t = hist[u].toarray().ravel(), times[u].toarray().ravel()
        on = np.flatnonzero(h)
        ranks = np.arange(len(on))[::-1]  # from the latest
        assert np.array_equal(h[on[np.lexsort((on, t[on]))]], np.exp(-ranks / 10))
    assert (history_matrix(graph, None, (POST_TIER,)) != seen).nnz == 0


def test_a_post_only_graph_trains_cf_session_and_popularity_on_the_tier(graph) -> None:
    plain = HybridConfig()
    assert CfComponent.from_graph(graph, plain, FitShared()) is None
    assert not PopularityComponent(graph).popularity_.any()
    assert SessionComponent.from_graph(graph, plain, FitShared()) is None

    cf = CfComponent.from_graph(graph, TIER, FitShared())
    assert cf is not None
    tier = training_matrix(graph, (POST_TIER,))
    assert np.array_equal(cf.columns_, np.flatnonzero(np.diff(tier.tocsc().indptr)))
    assert cf.model.train_.matrix.nnz == tier.nnz  # it learned from every tier pair
    users = np.arange(graph.num_nodes("user"))
    assert (cf.scores(users) != 0).any(axis=1).all()
    seen = seen_matrix(graph, (POST_TIER,))
    pop = PopularityComponent.from_graph(graph, TIER, FitShared())
    assert np.array_equal(pop.counts_, np.asarray(seen.sum(axis=0)).ravel())
    session = SessionComponent.from_graph(graph, TIER, FitShared())
    assert session is not None and session.transitions_.nnz > 0
    assert (session.history_ != 0).nnz == seen.nnz


def _tier_model(graph) -> HybridModel:
    comps = {c.name: c for c in (CfComponent.from_graph(graph, TIER, FitShared()),
                                 SessionComponent.from_graph(graph, TIER, FitShared()),
                                 PopularityComponent.from_graph(graph, TIER, FitShared()))}
    return HybridModel(graph, TIER, comps, Blend(tuple(comps), np.array([0.6, 0.2, 0.2])))


def test_tier_products_are_seen_and_the_user_is_not_cold(graph) -> None:
    from recommend import Recommender

    model = _tier_model(graph)
    seen = seen_matrix(graph, (POST_TIER,)).tocsr()
    assert (model.seen_ != seen).nnz == 0
    users = np.arange(graph.num_nodes("user"))
    top = model.top_k(users, 5)
    assert all(not set(top[u][top[u] >= 0]) & set(seen[u].indices) for u in users)
    rec = Recommender(model)
    answers = rec.recommend("user:u3", k=5)
    # the fitted blend, not the cold-start one (cf's evidence from a post-tier product has
    # no path of its own: recommend/paths/reasons.py starts cf paths at a product edge)
    assert answers and not any((r.reason or "").startswith("cold start") for r in answers)
    assert all(r.parts["cf"] > 0 for r in answers)  # the cold blend gives cf no weight
    assert not {r.item for r in answers} & {graph.node_id("product", int(p))
                                            for p in seen[graph.index("user:u3")].indices}


def test_an_added_post_engagement_updates_cf_session_and_popularity_as_a_refresh(graph) -> None:
    from recommend import Recommender

    rec = Recommender(_tier_model(graph))
    before = rec.model
    likes = [Event(f"u{u}", f"s{s}", "post", "like", ts=NOW + u) for u, s in
             ((1, 5), (2, 7), (2, 9), (11, 40), (30, 59))]
    result = rec.add(likes)
    assert result.accepted == len(likes) and not result.rejected
    assert_same_state(rec.model, full_refresh(rec.model))
    grown = seen_matrix(rec.graph, (POST_TIER,))
    assert grown.nnz > before.seen_.nnz and (rec.model.seen_ != grown).nnz == 0
    assert rec.model.components["popularity"].counts_.sum() == grown.nnz
    assert not np.array_equal(rec.model.components["cf"].history_.toarray(),
                              before.components["cf"].history_.toarray())


def test_the_build_fits_on_the_tier_it_resolved(graph) -> None:
    from recommend.hybrid.fit import fit_hybrid

    model = fit_hybrid(graph, HybridConfig(content=ContentConfig(encoder="lsa", lsa_dim=16)))
    assert model.info["validation"]["targets"]["relations"][-1] == POST_TIER
    assert model.config.split.target_relations[-1] == POST_TIER
    assert {"cf", "popularity"} <= set(model.components)
    assert model.info["cf_tuning"]["trials"]  # the CF family was tuned on the tier
    assert model.components["cf"].targets == model.config.split.target_relations


def test_an_added_post_is_its_author_s_history_at_once(graph) -> None:
    """A new post is a new node: everything is refreshed whole, the post's products with it."""
    from recommend import Recommender

    rec = Recommender(_tier_model(graph))
    u4, p1 = graph.index("user:u4"), graph.index("product:p1")
    if rec.model.seen_[u4, p1]:
        pytest.skip("u4 already engaged with a post naming p1 in this world")
    result = rec.add([Post("s-new", "u4", text="my new thing", ts=NOW, products=("p1",))])
    assert result.accepted == 1 and not result.rejected
    model = rec.model
    assert model.seen_[u4, p1] == 1.0
    assert model.components["cf"].linear_history(u4)[0, p1] == 1.0  # the latest: weight 1
    assert model.components["popularity"].counts_[p1] == graph_counts(rec.graph, p1)
    assert p1 not in {rec.graph.index(r.item) for r in rec.recommend("user:u4", k=10)}


def graph_counts(graph, p: int) -> float:
    """How many users engaged with a post naming product ``p`` (its tier popularity)."""
    return float(seen_matrix(graph, (POST_TIER,))[:, p].sum())
