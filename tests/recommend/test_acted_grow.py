"""recommend.paths.co_people's acted matrix and recommend.paths.quality's degrees, grown from
the kept ones by the edges added since (GraphStore.cached_grown), equal what is counted afresh
after every add."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from kg.records import Event, User
from recommend import Recommender
from recommend.paths import co_people
from recommend.paths.co_people import _acted, acting_counts
from recommend.paths.quality import degrees, entity_popularity

ACTS = ("viewed", "purchased", "rated", "liked")


def afresh(graph: KnowledgeGraph) -> sp.csc_matrix:
    """_acted of a fork of ``graph`` with nothing kept (counted from scratch)."""
    again = graph.fork()
    again._derived = {}
    return _acted(again)


def assert_same(got: sp.csc_matrix, want: sp.csc_matrix) -> None:
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def random_add(graph: KnowledgeGraph, rng: np.random.Generator, signs: bool) -> None:
    """Add a few act edges (some to new users or products, some of weight 0, negative
    ones when ``signs``), or a non-act relation's edge."""
    n = int(rng.integers(1, 6))
    users = [f"user:u{rng.integers(0, 12 + (rng.random() < 0.2) * 3)}" for _ in range(n)]
    products = [f"product:p{rng.integers(0, 9 + (rng.random() < 0.2) * 3)}" for _ in range(n)]
    if rng.random() < 0.1:
        graph.add_edges("follows", users, [f"user:u{rng.integers(0, 12)}" for _ in range(n)])
        return
    weights = rng.choice([0.0, 1.0, 2.5, -1.0] if signs else [0.0, 1.0, 2.5], n)
    graph.add_edges(str(rng.choice(ACTS)), users, products, weight=weights)


@pytest.mark.parametrize("signs", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_grown_equals_afresh(seed: int, signs: bool) -> None:
    rng = np.random.default_rng(seed)
    graph = KnowledgeGraph()
    for _ in range(3):
        random_add(graph, rng, signs)
    for step in range(40):
        assert_same(_acted(graph), afresh(graph))
        assert np.array_equal(acting_counts(graph), np.diff(afresh(graph).indptr))
        again = graph.fork()
        again._derived = {}
        for node_type in ("user", "product"):
            assert np.array_equal(degrees(graph, node_type), degrees(again, node_type))
            assert np.array_equal(entity_popularity(graph, node_type),
                                  entity_popularity(again, node_type))
        if step % 3 == 0:
            graph = graph.fork()  # as Recommender.add grows a fork
        random_add(graph, rng, signs)


def test_grown_not_counted_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """An add of known users' acts grows the kept matrix (it is not counted again), and
    the pair an added edge joins is decided from all of that pair's edges."""
    graph = KnowledgeGraph()
    graph.add_edges("viewed", ["user:a", "user:b"], ["product:x", "product:y"])
    graph.add_edges("purchased", ["user:a"], ["product:y"], weight=0.0)
    _acted(graph)
    calls = []
    real = graph.matrix
    monkeypatch.setattr(graph, "matrix", lambda *a, **k: calls.append(a) or real(*a, **k))
    graph.add_edges("purchased", ["user:b", "user:a"], ["product:x", "product:y"],
                    weight=[1.0, 0.0])
    got = _acted(graph).toarray()
    assert not calls
    assert got.tolist() == [[True, False], [True, True]]
    graph.add_edges("purchased", ["user:a"], ["product:y"], weight=2.0)
    assert _acted(graph).toarray().tolist() == [[True, True], [True, True]]
    assert not calls


def test_degrees_follow_adds() -> None:
    graph = KnowledgeGraph()
    graph.add_edges("viewed", ["user:a", "user:b"], ["product:x", "product:x"])
    assert degrees(graph, "product").tolist() == [2.0]
    graph.add_edges("follows", ["user:a"], ["user:b"])
    graph.add_edges("viewed", ["user:c"], ["product:y"])
    assert degrees(graph, "user").tolist() == [2.0, 2.0, 1.0]
    assert degrees(graph, "product").tolist() == [2.0, 1.0]


def test_mixed_signs_count_afresh() -> None:
    """A pair whose edges of one act cancel is counted afresh: absent, as the sum is 0."""
    graph = KnowledgeGraph()
    graph.add_edges("rated", ["user:a", "user:b"], ["product:x", "product:x"], weight=2.0)
    _acted(graph)
    graph.add_edges("rated", ["user:a"], ["product:x"], weight=-2.0)
    assert _acted(graph).toarray().tolist() == [[False], [True]]


def test_many_edges_count_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(co_people, "GROW_EDGES", 1)
    graph = KnowledgeGraph()
    graph.add_edges("viewed", ["user:a"], ["product:x"])
    _acted(graph)
    graph.add_edges("viewed", ["user:b", "user:c"], ["product:x", "product:y"])
    assert_same(_acted(graph), afresh(graph))
    assert co_people._grown(graph, _acted(graph), {("user", "viewed", "product"): 1}) is None


@pytest.fixture(scope="module")
def base(small_demo_artifact: Path) -> Recommender:
    return Recommender.load(small_demo_artifact)


def test_recommender_add_keeps_acted_exact(base: Recommender) -> None:
    """Through Recommender.add (a fork per add): the served model's acted matrix, asked
    after each add (as a request would), equals the one counted afresh."""
    rec = Recommender(base.model, manifest=base.manifest, folder=base.folder)
    rng = np.random.default_rng(3)
    users = [u.partition(":")[2] for u in rec.graph.nodes("user")]
    products = [p.partition(":")[2] for p in rec.graph.nodes("product")]
    kinds = ("view", "click", "purchase", "like", "cart")
    _acted(rec.graph)
    for k in range(8):
        batch: list[Event | User] = [Event(users[int(rng.integers(len(users)))],
                       products[int(rng.integers(len(products)))], "product",
                       str(rng.choice(kinds)), ts=time.time() - 60 + k)
                 for _ in range(int(rng.integers(1, 4)))]
        if k == 5:
            batch += [User("acts-new-user"), Event("acts-new-user", products[0], "product", "view",
                               ts=time.time())]
        result = rec.add(batch)
        assert not result.rejected
        assert_same(_acted(rec.graph), afresh(rec.graph))
        again = rec.graph.fork()
        again._derived = {}
        for node_type in ("user", "product"):
            assert np.array_equal(entity_popularity(rec.graph, node_type),
                                  entity_popularity(again, node_type))
