"""The mixed validation fold: half its held-out pairs are each user's latest, half drawn at
random, and each half hides what the test it stands for hides (bench/shapes.py's
posts-heavy: a fold that was by time for most users kept the posts a user wrote before
buying, and the build served what a random test then scored 0.41x its social part)."""

from __future__ import annotations

from kg.build import build_graph
from kg.records import Dataset, Event, Post, Product, User
from recommend.hybrid.split import holdout_split


def _world(n_users: int, n_products: int, *, posts: bool):
    """Each user buys every product, product i at time 10 * user + i + 100; with ``posts``,
    each user first wrote one post naming each product (at time i, before any purchase)."""
    products = [Product(f"P{i}", f"thing {i}") for i in range(n_products)]
    users = [User(f"u{u}") for u in range(n_users)]
    events = [Event(f"u{u}", f"P{i}", "product", "purchase", ts=float(10 * u + i + 100))
              for u in range(n_users) for i in range(n_products)]
    written = [Post(f"s{u}-{i}", f"u{u}", ts=float(i), products=(f"P{i}",))
               for u in range(n_users) for i in range(n_products)] if posts else []
    return build_graph(Dataset(products=products, users=users, events=events, posts=written),
                       progress=False)


def test_half_the_pairs_are_the_latest_when_each_user_holds_out_one() -> None:
    """Three purchases each, a fifth held out: one pair per user. Rounded up, every one was
    the user's latest (a fold by time); now about half are, the others drawn at random."""
    g = _world(60, 3, posts=False)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.2, min_user_items=3,
                          derived=())
    assert split.mode == "mixed" and split.relevant.nnz == 60
    latest = split.latest
    assert latest is not None and 15 <= latest.nnz <= 45
    earlier = (split.relevant - latest).tocsr()
    earlier.eliminate_zeros()
    assert earlier.nnz == 60 - latest.nnz
    # the latest, marked as such
    assert {g.node_id("product", int(i)) for i in latest.nonzero()[1]} == {"product:P2"}
    # the others are drawn at random among the user's products, as a random hold-out draws
    assert {g.node_id("product", int(i)) for i in earlier.nonzero()[1]} == {
        "product:P0", "product:P1", "product:P2"}


def test_a_pair_held_out_at_random_hides_every_post_naming_it() -> None:
    """Ten purchases each, two held out: the latest and one earlier. The user's post naming
    the latest one was written before buying it: it stays, as by time. The post naming the
    earlier one goes, as it goes in a random hold-out (it was written before buying too)."""
    g = _world(20, 10, posts=True)
    split = holdout_split(g, target_relations=("purchased",), fraction=0.2, min_user_items=3,
                          derived=())
    assert split.mode == "mixed" and split.relevant.nnz == 40
    latest = split.latest
    assert latest is not None and latest.nnz == 20
    t = split.train_graph
    for u, i in zip(*split.relevant.nonzero(), strict=True):
        user, product = g.node_id("user", int(u)), g.node_id("product", int(i))
        post = f"post:s{user.removeprefix('user:u')}-{product.removeprefix('product:P')}"
        assert t.has_edge(user, "authored", post) == bool(latest[u, i])
    at_random = holdout_split(g, target_relations=("purchased",), fraction=0.2,
                              min_user_items=3, derived=(), mode="random")
    assert at_random.report["hidden_post_edges"] == 40
    assert split.report["hidden_post_edges"] == 20


def test_candidate_recall_of_no_candidates_is_zero() -> None:
    """Users held out from (two purchases each: split.min_user_items 2) and no candidate to
    rank: the recall is 0 (the empty pool's arrays indexed the matrix into an error)."""
    import numpy as np
    import scipy.sparse as sp

    from recommend.hybrid.served import candidate_recall

    relevant = sp.csr_matrix(np.eye(3))
    assert candidate_recall(np.zeros(0), np.zeros(0), relevant) == 0.0
    assert candidate_recall(np.array([0, 1]), np.array([0, 2]), relevant) == 1 / 3
