"""The target relations widen only when the configured ones leave too few users, down to
the post tier: the products named by the posts a user engaged with."""

from __future__ import annotations

from kg.build import build_graph
from kg.interactions import POST_TIER, latest_times, naming_matrix, training_matrix
from kg.records import Dataset, Event, Post, Product, User
from recommend.hybrid.split import holdout_split
from recommend.hybrid.targets import eligible_users, resolve_targets

CONFIGURED = ("purchased", "carted", "rated")


def _graph(kinds_per_user: dict[str, list[tuple[str, str]]]):
    products = sorted({p for acts in kinds_per_user.values() for _, p in acts})
    return build_graph(Dataset(
        products=[Product(p, f"thing {p}") for p in products],
        users=[User(u) for u in kinds_per_user],
        events=[Event(u, p, "product", kind, ts=float(i)) for u, acts in kinds_per_user.items()
                for i, (kind, p) in enumerate(acts)]), progress=False)


def test_enough_buyers_keep_the_configured_relations() -> None:
    graph = _graph({f"u{i}": [("purchase", "a"), ("purchase", "b"), ("view", "c")]
                    for i in range(5)})
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=5)
    assert targets == CONFIGURED and not record["widened"] and record["eligible_users"] == 5


def test_tiers_are_added_in_order_until_enough_users() -> None:
    acts = {f"u{i}": [("like", "a"), ("like", "b")] for i in range(3)}
    acts |= {f"v{i}": [("click", "a"), ("view", "b")] for i in range(4)}
    graph = _graph(acts)
    assert eligible_users(graph, CONFIGURED, 2) == 0
    # likes give 3 users; their clicks give the others one product each, with views two
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=7)
    assert targets == (*CONFIGURED, "liked", "clicked", "viewed")
    assert {k: record[k] for k in ("relations", "eligible_users", "widened")} == {
        "relations": list(targets), "eligible_users": 7, "widened": True}
    assert record["why"] == "the configured relations give 0 users with 2+ products, under 7"
    assert [t["eligible_users"] for t in record["tried"]] == [0, 3, 3, 7]
    assert resolve_targets(graph, CONFIGURED, 2, min_users=3)[0] == (*CONFIGURED, "liked")


def test_tiers_that_add_no_user_are_left_out() -> None:
    graph = _graph({"u": [("view", "a"), ("click", "a")]})
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=1)
    assert targets == CONFIGURED and record["eligible_users"] == 0



def _post_graph():
    """Posts tagging products; users only write, like or view posts (no product event).

    u0 wrote s0 (tags a) at 10; u1 viewed s1 (tags b) at 1, then liked s0 at 2, s2 (tags c)
    at 3, s3 (tags c, d) at 4 and s1 at 5; u2 liked s0 at 3; u9 wrote s1, s2, s3 at 0."""
    posts = [Post("s0", "u0", ts=10.0, products=("a",)), Post("s1", "u9", ts=0.0, products=("b",)),
             Post("s2", "u9", ts=0.0, products=("c",)),
             Post("s3", "u9", ts=0.0, products=("c", "d"))]
    acts = [("u1", "s1", "view", 1.0), ("u1", "s0", "like", 2.0), ("u1", "s2", "like", 3.0),
            ("u1", "s3", "like", 4.0), ("u1", "s1", "like", 5.0), ("u2", "s0", "like", 3.0)]
    return build_graph(Dataset(
        products=[Product(p, f"thing {p}") for p in "abcd"],
        users=[User(u) for u in ("u0", "u1", "u2", "u9")], posts=posts,
        events=[Event(u, s, "post", kind, ts=t) for u, s, kind, t in acts]), progress=False)


def _pairs(graph, times) -> dict[tuple[str, str], float]:
    coo = times.tocoo()
    return {(graph.node_id("user", int(u)), graph.node_id("product", int(p))): float(t)
            for u, p, t in zip(coo.row, coo.col, coo.data, strict=True)}


def test_post_only_data_targets_the_products_its_engaged_posts_name() -> None:
    graph = _post_graph()
    targets, record = resolve_targets(graph, CONFIGURED, 2, min_users=2)
    assert targets == (*CONFIGURED, POST_TIER) and record["widened"]
    assert record["eligible_users"] == 2  # u1 (a, b, c, d) and u9 (b, c, d)
    # a pair's time is its latest engagement (views are not one); authored posts count
    assert _pairs(graph, latest_times(graph, (POST_TIER,))) == {
        ("user:u0", "product:a"): 10.0, ("user:u1", "product:a"): 2.0,
        ("user:u1", "product:c"): 4.0, ("user:u1", "product:d"): 4.0,
        ("user:u1", "product:b"): 5.0, ("user:u2", "product:a"): 3.0,
        ("user:u9", "product:b"): 0.0, ("user:u9", "product:c"): 0.0,
        ("user:u9", "product:d"): 0.0}
    assert _pairs(graph, latest_times(graph, (POST_TIER,), first=True))[
        ("user:u1", "product:c")] == 3.0
    assert training_matrix(graph, CONFIGURED).nnz == 0
    assert training_matrix(graph, targets).nnz == 9


def _u1_post_edges(graph) -> set[tuple[str, str]]:
    u1 = graph.index("user:u1")
    return {(c.relation, graph.node_id("post", int(d))) for c in graph.edge_blocks()
            if c.src_type == "user" and c.dst_type == "post" for s, d in zip(c.src, c.dst,
                                                                             strict=True)
            if s == u1}


def test_a_held_out_post_tier_pair_leaves_no_engagement_behind() -> None:
    """By time u1's latest pair (b) is held out: the like of s1 goes, the view before it
    stays (evidence serving also has); at random every edge to a post naming it goes."""
    graph = _post_graph()
    by_time = holdout_split(graph, target_relations=(POST_TIER,), fraction=0.25,
                            min_user_items=4, mode="time", derived=())
    assert _pairs(graph, by_time.relevant) == {("user:u1", "product:b"): 1.0}
    assert ("liked", "post:s1") not in _u1_post_edges(by_time.train_graph)
    assert ("viewed", "post:s1") in _u1_post_edges(by_time.train_graph)
    assert ("user:u1", "product:b") not in _pairs(by_time.train_graph, latest_times(
        by_time.train_graph, (POST_TIER,)))
    for seed in range(6):
        split = holdout_split(graph, target_relations=(POST_TIER,), fraction=0.25,
                              min_user_items=4, mode="random", derived=(), seed=seed)
        (_, product), = _pairs(graph, split.relevant)
        naming = {graph.node_id("post", int(s)) for s in
                  naming_matrix(graph)[:, graph.index(product)].nonzero()[0]}
        assert not {post for _, post in _u1_post_edges(split.train_graph)} & naming


def test_the_build_validates_on_the_targets_a_test_holds_out() -> None:
    """25 users with two purchases each and views of three more products: a test holds out
    purchases (evaluate: users with 2+). The build's validation does too; needing 3+
    products, it widened to views, which no test judges (bench/shapes.py's posts-heavy world
    then served popularity)."""
    import inspect

    from recommend.evaluate.holdout import evaluate_graph
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.fit import _validation_splits

    acts = {f"u{i}": [("purchase", f"p{i}"), ("purchase", f"p{i + 1}"),
                      *[("view", f"p{i + j}") for j in (2, 3, 4)]] for i in range(25)}
    graph = _graph(acts)
    tested = inspect.signature(evaluate_graph).parameters["min_user_items"].default
    assert resolve_targets(graph, CONFIGURED, tested)[0] == CONFIGURED
    split, = _validation_splits(graph, HybridConfig())
    assert split.targets == CONFIGURED and not split.report["targets"]["widened"]
    assert len(split.users) == 25
