"""Meta-path scores are the hand-computed products; the scorer learns which paths predict."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from recommend.paths import (
    DEFAULT_METAPATHS,
    GraphPathScorer,
    MetaPath,
    Step,
    available_metapaths,
    metapath_matrix,
)

BOUGHT_COBOUGHT = MetaPath(
    "bought>co_bought", (Step("purchased", "out", "product"), Step("co_bought"))
)
SAME_BRAND = MetaPath(
    "bought>same_brand",
    (Step("purchased", "out", "product"), Step("made_by"), Step("made_by", "in")),
)


def tiny_graph() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "ABCD":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("purchased", ["user:1", "user:1", "user:2"],
                ["product:A", "product:B", "product:C"], weight=8.0)
    g.add_edges("co_bought", ["product:A", "product:A", "product:B"],
                ["product:B", "product:C", "product:C"], weight=[1.0, 3.0, 1.0])
    g.add_edges("made_by", ["product:A", "product:B", "product:C", "product:D"],
                ["brand:x", "brand:x", "brand:x", "brand:y"])
    return g


def test_row_normalised_product_matches_hand_computation():
    g = tiny_graph()
    m = metapath_matrix(g, BOUGHT_COBOUGHT).toarray()
    a, b, c, d = (g.index(f"product:{p}") for p in "ABCD")
    u1 = g.index("user:1")
    # user 1 -> A, B with 1/2 each; A -> B 1/4, A -> C 3/4; B -> C 1
    assert m[u1, b] == pytest.approx(0.5 * 0.25)
    assert m[u1, c] == pytest.approx(0.5 * 0.75 + 0.5 * 1.0)
    assert m[u1, a] == 0 and m[u1, d] == 0
    raw = metapath_matrix(g, BOUGHT_COBOUGHT, normalize="none").toarray()
    assert raw[u1, c] == pytest.approx(8 * 3 + 8 * 1)


def test_in_steps_and_symmetric_normalisation():
    g = tiny_graph()
    m = metapath_matrix(g, SAME_BRAND).toarray()
    u1 = g.index("user:1")
    a, b, c, d = (g.index(f"product:{p}") for p in "ABCD")
    # brand x makes A, B, C: each user-1 walk ends on one of them with 1/3
    assert m[u1, [a, b, c]] == pytest.approx([1 / 3] * 3)
    assert m[u1, d] == 0
    sym = metapath_matrix(g, SAME_BRAND, normalize="symmetric").toarray()
    steps = [g.matrix("purchased", "product").toarray(),
             g.matrix("made_by").toarray(), g.matrix("made_by").toarray().T]
    expect = np.eye(g.num_nodes("user"))
    for s in steps:
        r, c_ = s.sum(1), s.sum(0)
        r_inv = np.where(r > 0, 1 / np.sqrt(np.where(r > 0, r, 1)), 0)
        c_inv = np.where(c_ > 0, 1 / np.sqrt(np.where(c_ > 0, c_, 1)), 0)
        expect = expect @ (r_inv[:, None] * s * c_inv[None, :])
    assert sym == pytest.approx(expect)


def test_bad_metapaths_are_refused_with_reasons():
    with pytest.raises(ValueError, match="node_type"):
        MetaPath("x", (Step("purchased"),))
    with pytest.raises(ValueError, match="not product"):
        MetaPath("x", (Step("interested_in", "out", "brand"),))
    with pytest.raises(ValueError, match="unknown relation"):
        Step("bought")


def test_available_metapaths_follow_the_graphs_relations():
    g = tiny_graph()
    names = {mp.name for mp in available_metapaths(g)}
    assert {"bought>co_bought", "bought>same_brand", "bought>co_purchased"} <= names
    assert not any("peers" in n for n in names)
    assert not any("also_bought" in n or "category" in n or "follows" in n for n in names)
    g.add_edges("in_category", ["product:A"], ["category:mugs"])
    assert "bought>same_category" in {mp.name for mp in available_metapaths(g)}
    assert all(len(mp.steps) <= 3 for mp in DEFAULT_METAPATHS)


def signal_world(n_users: int = 80, seed: int = 0) -> tuple[KnowledgeGraph, dict[str, set[str]]]:
    """Each user's held-out item is co-bought with one they bought; brands are noise."""
    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    n_items = 60
    for p in range(n_items):
        g.add_node(f"product:p{p}", title=f"Item {p}")
        g.add_edges("made_by", [f"product:p{p}"], [f"brand:b{rng.integers(6)}"])
    partner = rng.permutation(n_items)
    g.add_edges("co_bought", [f"product:p{p}" for p in range(n_items)],
                [f"product:p{partner[p]}" for p in range(n_items)])
    extra = rng.integers(n_items, size=(n_items, 3))
    g.add_edges("co_bought", [f"product:p{p}" for p in range(n_items) for _ in range(3)],
                [f"product:p{q}" for q in extra.ravel()], weight=0.2)
    validation = {}
    for u in range(n_users):
        bought = rng.choice(n_items, 2, replace=False)
        g.add_edges("purchased", [f"user:{u}"] * 2, [f"product:p{p}" for p in bought])
        target = partner[bought[0]]
        if target not in bought:
            validation[f"user:{u}"] = {f"product:p{target}"}
    return g, validation


def test_fit_weights_the_predictive_metapath_and_finds_held_out_items():
    g, validation = signal_world()
    scorer = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, validation)
    single = scorer.single_ndcg_
    assert single["bought>co_bought"] > 2 * single["bought>same_brand"]
    assert scorer.validation_ndcg_ >= max(single.values())
    assert (scorer.weights_ >= 0).all() and scorer.weights_.sum() == pytest.approx(1)
    users = np.array([g.index(u) for u in validation])
    top = scorer.top_n(users, 10)
    hit = [g.index(next(iter(validation[g.node_id("user", u)]))) in row
           for u, row in zip(users, top.items, strict=True)]
    assert np.mean(hit) > 0.8


def test_top_n_excludes_seen_and_undescribed_and_parts_add_up():
    g, validation = signal_world()
    g.add_edges("co_bought", ["product:p0"], ["product:ghost"], weight=50.0)  # no record
    scorer = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, validation)
    users = np.arange(g.num_nodes("user"))
    top = scorer.top_n(users, 10)
    seen = scorer.seen_.toarray() > 0
    ghost = g.index("product:ghost")
    for r, row in enumerate(top.items):
        items = row[row >= 0]
        assert not seen[r, items].any()
        assert ghost not in items
        assert np.all(np.diff(top.scores[r][row >= 0]) <= 1e-12)
    user, item = g.node_id("user", 0), g.node_id("product", int(top.items[0, 0]))
    parts = scorer.parts(user, item)
    assert sum(parts.values()) == pytest.approx(top.scores[0, 0])


def test_validation_as_a_matrix_fits_the_same_weights_and_parts_cover_many_items():
    g, validation = signal_world()
    rows = [g.index(u) for u, items in validation.items() for _ in items]
    cols = [g.index(i) for items in validation.values() for i in items]
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                           shape=(g.num_nodes("user"), g.num_nodes("product")))
    a = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, validation)
    b = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, matrix)
    assert a.weights_ == pytest.approx(b.weights_)
    items = [g.node_id("product", j) for j in range(5)]
    many = a.parts("user:0", items)
    total = a.score([g.index("user:0")]).toarray()[0, :5]
    assert sum(many.values()) == pytest.approx(total)
    with pytest.raises(ValueError, match="validation matrix"):
        GraphPathScorer([BOUGHT_COBOUGHT]).fit(g, matrix[:3])


def test_dense_and_sparse_scores_agree():
    g, validation = signal_world()
    scorer = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, validation)
    few, many = np.arange(3), np.arange(20)  # dense rows, then the sparse products
    np.testing.assert_allclose(scorer.score_dense(few), scorer.score(few).toarray())
    np.testing.assert_allclose(scorer.score_dense(many), scorer.score(many).toarray())


def test_state_round_trip_gives_the_same_ranking():
    g, validation = signal_world()
    scorer = GraphPathScorer([BOUGHT_COBOUGHT, SAME_BRAND]).fit(g, validation)
    again = GraphPathScorer.from_state(g, scorer.state())
    users = np.arange(20)
    assert np.array_equal(scorer.top_n(users, 5).items, again.top_n(users, 5).items)


def test_movielens_uses_its_own_relations(shared_dataset):
    """Data-driven: on MovieLens (ratings + genres) the scorer uses rated/category paths."""
    from dataclasses import replace

    from kg.build import build_graph
    from kg.loaders.movielens import load_movielens
    from recommend.evaluate.metrics import ndcg_at_k

    ds = load_movielens(shared_dataset("ml-100k")).dataset
    latest: dict[str, tuple[tuple[float, int], int]] = {}
    for k, e in enumerate(ds.events):
        key = (e.ts or 0.0, int(e.target))
        if e.user not in latest or key > latest[e.user][0]:
            latest[e.user] = (key, k)
    held = {k for _, k in latest.values()}
    g = build_graph(replace(ds, events=[e for k, e in enumerate(ds.events) if k not in held]),
                    progress=False)
    truth = {f"user:{ds.events[k].user}": {f"product:{ds.events[k].target}"} for k in held}
    names = {mp.name for mp in available_metapaths(g)}
    assert names == {"rated>same_category", "rated>co_rated", "segment>members_rated"}
    start = time.perf_counter()
    scorer = GraphPathScorer(max_fit_users=300).fit(g, truth)
    users = np.arange(g.num_nodes("user"))
    top = scorer.top_n(users, 10)
    assert time.perf_counter() - start < 20
    rows = [g.index(u) for u in truth]
    cols = [g.index(next(iter(v))) for v in truth.values()]
    relevant = sp.csr_matrix((np.ones(len(rows)), (rows, cols)),
                             shape=(len(users), g.num_nodes("product")))
    seen = scorer.seen_.toarray() > 0
    popular = np.argsort(-seen.sum(0), kind="stable")
    pop_recs = np.array([popular[~seen[u, popular]][:10] for u in users])
    assert ndcg_at_k(top.items, relevant, 10) > ndcg_at_k(pop_recs, relevant, 10)


def _walk(first, row, steps):
    from recommend.paths.walks import walk_dense, walk_on, walk_start

    return walk_dense(walk_on(walk_start(first, row), steps))


def test_walk_equals_the_matrix_product_for_sparse_and_dense_rows():

    first = sp.csr_matrix(np.array([[0, 1.0, 0, 0, 0, 0, 0, 0, 0, 0.5],  # a user's few items
                                    [0.3] * 10,  # dense: pushed through all of m
                                    [0] * 10]))  # nothing: a zero row
    steps = [sp.random(10, 90, density=0.05, format="csr", random_state=4),
             sp.random(90, 40, density=0.1, format="csr", random_state=5)]
    want = (first @ steps[0] @ steps[1]).toarray()
    for row in range(3):
        np.testing.assert_allclose(_walk(first, row, steps), want[row], atol=1e-12)
    np.testing.assert_allclose(_walk(first, 0, []), first.toarray()[0])


def test_a_remembered_middle_layer_walks_on_to_the_same_scores():
    from recommend.paths.instances import reach_state
    from recommend.paths.walks import walk_dense, walk_on

    steps = [sp.random(6, 30, density=0.2, format="csr", random_state=1),
             sp.random(30, 50, density=0.1, format="csr", random_state=2),
             sp.random(50, 20, density=0.1, format="csr", random_state=3)]
    for u in range(6):
        state = reach_state(steps, u)
        assert reach_state(steps, u) is state  # remembered for the request's other uses
        kept = [a.copy() for a in state[:2]]
        assert np.array_equal(walk_dense(walk_on(state, steps[2:])), _walk(steps[0], u, steps[1:]))
        assert np.array_equal(walk_dense(state), _walk(steps[0], u, steps[1:2]))
        assert all(np.array_equal(a, b) for a, b in zip(kept, state[:2], strict=True))
