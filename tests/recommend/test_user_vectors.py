"""User content vectors from a tiny hand-made knowledge graph."""

from __future__ import annotations

import numpy as np
import pytest

from kg.build import build_graph
from kg.records import Dataset, Event, Post, Product, User
from recommend.content import ContentIndex, user_vectors

DAY = 86_400.0
NOW = 1.7e9


def world() -> tuple:
    """Products A-D with orthogonal vectors (E has none); users with known histories."""
    products = [Product(p, f"Item {p}") for p in "ABCDE"]
    users = [User(u) for u in ("old_new", "kinds", "poster", "idle", "unindexed", "no_ts")]
    posts = [
        Post("p1", "poster", "love my C", ts=NOW - 10 * DAY, products=("C",)),
        Post("p2", "old_new", "C and D together", ts=NOW - 5 * DAY, products=("C", "D")),
    ]
    events = [
        # the same purchase kind 90 days apart: the recent one must weigh 8x more (3 half-lives)
        Event("old_new", "A", "product", "purchase", ts=NOW - 90 * DAY),
        Event("old_new", "B", "product", "purchase", ts=NOW),
        # same moment, different kinds
        Event("kinds", "A", "product", "view", ts=NOW),
        Event("kinds", "B", "product", "click", ts=NOW),
        Event("kinds", "C", "product", "like", ts=NOW),
        Event("kinds", "D", "product", "cart", ts=NOW),
        Event("poster", "p2", "post", "like", ts=NOW),
        Event("unindexed", "E", "product", "purchase", ts=NOW),
        Event("no_ts", "A", "product", "purchase"),
    ]
    graph = build_graph(
        Dataset(products=products, users=users, posts=posts, events=events), progress=False
    )
    index = ContentIndex.build([f"product:{p}" for p in "ABCD"], np.eye(4, 6))
    return graph, index


def row(uv, user: str) -> np.ndarray:
    return uv.matrix[uv.ids.index(f"user:{user}")]


def weights(uv, user: str) -> np.ndarray:
    return uv.weights.toarray()[uv.ids.index(f"user:{user}")]


def test_recent_interactions_weigh_more_by_the_half_life() -> None:
    graph, index = world()
    uv = user_vectors(graph, index, half_life_days=30.0)
    w = weights(uv, "old_new")
    assert w[0] / w[1] == pytest.approx(0.125, rel=1e-4)  # A (90 days old) vs B (now)
    v = row(uv, "old_new")
    assert v[1] > v[0] > 0 and np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    # a longer half-life flattens the difference; no decay makes them equal
    slow = weights(user_vectors(graph, index, half_life_days=300.0), "old_new")
    assert 0.125 < slow[0] / slow[1] < 1.0
    flat = weights(user_vectors(graph, index, half_life_days=None), "old_new")
    assert flat[0] == pytest.approx(flat[1])


def test_kind_order_purchase_cart_like_click_view() -> None:
    graph, index = world()
    uv = user_vectors(graph, index)
    v = row(uv, "kinds")
    assert v[3] > v[2] > v[1] > v[0] > 0  # cart D > like C > click B > view A
    assert index.search(v, k=1).ids == [["product:D"]]


def test_posts_count_for_the_products_they_mention() -> None:
    graph, index = world()
    uv = user_vectors(graph, index, half_life_days=None)
    poster = weights(uv, "poster")  # authored p1 (-> C, weight 5), liked p2 (-> C, D: 3 / 2 each)
    np.testing.assert_allclose(poster, [0.0, 0.0, 6.5, 1.5])
    both = weights(uv, "old_new")  # authored p2 and purchased A, B; p2 -> C, D shared equally
    assert both[2] == pytest.approx(both[3]) and both[2] > 0
    liked = user_vectors(graph, index, half_life_days=None, kind_weights={"liked": 3.0})
    w = weights(liked, "poster")  # liked p2 -> C and D, each half of the like's weight
    assert w[2] == pytest.approx(1.5) and w[3] == pytest.approx(1.5)


def test_users_without_indexed_interactions_are_reported_empty() -> None:
    graph, index = world()
    uv = user_vectors(graph, index)
    assert sorted(uv.empty_ids()) == ["user:idle", "user:unindexed"]
    empty = uv.matrix[uv.empty_mask]
    assert np.all(empty == 0)
    # and the index gives them no candidates rather than arbitrary ones
    assert index.search(empty, k=3).ids == [[], []]


def test_missing_timestamps_are_not_decayed() -> None:
    graph, index = world()
    uv = user_vectors(graph, index, half_life_days=1.0)
    assert weights(uv, "no_ts")[0] == pytest.approx(8.0)
    assert weights(uv, "old_new")[0] < 1e-20  # 90 one-day half-lives


def test_user_vectors_search_with_their_own_purchases_excluded() -> None:
    graph, index = world()
    uv = user_vectors(graph, index, half_life_days=None)
    i = uv.ids.index("user:kinds")
    assert uv.seen()[i] == {0, 1, 2, 3}
    result = index.search(uv.matrix[i : i + 1], k=2, exclude=[uv.seen()[i] - {3}])
    assert result.ids == [["product:D"]]  # the other three seen ones are left out
