"""recommend.paths.grow: a scorer grown by new edges equals one compiled afresh, and shares the
steps the edges do not reach; kg.delta and kg.interactions.grow_interactions row splicing."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.delta import graph_delta, splice_rows
from kg.graph import KnowledgeGraph
from kg.interactions import (
    PRODUCT_RELATIONS,
    grow_interactions,
    history_matrix,
    latest_times,
    seen_matrix,
)
from recommend.paths import GraphPathScorer
from recommend.paths.grow import grown_scorer, step_inputs
from recommend.paths.metapaths import catalogue
from recommend.paths.privacy import Privacy

N_USERS, N_PRODUCTS = 14, 9
RELATIONS = ("purchased", "rated", "viewed")

edge = st.tuples(st.integers(0, N_USERS - 1), st.sampled_from(RELATIONS),
                 st.integers(0, N_PRODUCTS - 1), st.integers(1, 5),
                 st.one_of(st.none(), st.integers(0, 50)))


def graph_of(edges: list[tuple[int, str, int, int, int | None]]) -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in range(N_PRODUCTS):
        g.add_node(f"product:p{p}", title=f"P{p}")
    for u in range(N_USERS):
        g.add_node(f"user:u{u}", name=f"U{u}")
    g.add_edges("member_of", [f"user:u{u}" for u in range(N_USERS)],
                [f"segment:occupation-{u % 3}" for u in range(N_USERS)])
    add(g, edges)
    return g


def add(g: KnowledgeGraph, edges: list[tuple[int, str, int, int, int | None]]) -> None:
    for u, rel, p, w, t in edges:
        g.add_edges(rel, [f"user:u{u}"], [f"product:p{p}"], weight=float(w),
                    ts=None if t is None else 1.0e9 + t)


def cached_all(g: KnowledgeGraph) -> None:
    seen_matrix(g)
    latest_times(g, PRODUCT_RELATIONS)
    history_matrix(g, None)
    history_matrix(g, 3.0)


def test_splice_rows_replaces_exactly_the_given_rows() -> None:
    old = sp.random(30, 12, density=0.3, format="csr", random_state=1)
    rows = np.array([0, 4, 5, 29])
    new = sp.random(4, 12, density=0.5, format="csr", random_state=2)
    got = splice_rows(old, rows, new).toarray()
    want = old.toarray()
    want[rows] = new.toarray()
    assert np.array_equal(got, want)
    assert np.array_equal(splice_rows(old, np.zeros(0, np.int64),
                                      sp.csr_matrix((0, 12))).toarray(), old.toarray())


def test_the_sorted_coo_splice_equals_splice_rows_and_checks_the_width() -> None:
    from kg.interactions import _splice_sorted_coo

    old = sp.random(30, 12, density=0.3, format="csr", random_state=3)
    old.sort_indices()
    rows = np.array([0, 4, 5, 29])
    new = sp.random(4, 12, density=0.5, format="csr", random_state=4)
    new.sort_indices()
    got = _splice_sorted_coo(old.tocoo(), rows, new).toarray()
    assert np.array_equal(got, splice_rows(old, rows, new).toarray())
    with pytest.raises(ValueError, match="expected"):
        _splice_sorted_coo(old.tocoo(), rows, sp.csr_matrix((4, 11)))


def test_a_delta_names_the_grown_blocks_and_users_and_new_nodes() -> None:
    g = graph_of([(0, "purchased", 1, 1, 3)])
    g.consolidate()
    fork = g.fork()
    add(fork, [(4, "viewed", 2, 1, 5), (2, "viewed", 2, 1, 6)])
    delta = graph_delta(g, fork)
    follow = g.fork()
    cached_all(g)
    follow.add_edges("follows", ["user:u3"], ["user:u5"])
    grow_interactions(g, follow, graph_delta(g, follow).users)  # u3 has no product edge
    assert np.array_equal(history_matrix(follow, 3.0).toarray(),
                          history_matrix(g, 3.0).toarray())
    assert delta.blocks == {("user", "viewed", "product")}
    assert delta.users.tolist() == [2, 4] and delta.incremental
    other = g.fork()
    other.add_edges("purchased", ["user:u1"], ["product:new"])
    assert not graph_delta(g, other).incremental


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edge, min_size=20, max_size=90), st.lists(edge, min_size=1, max_size=8))
def test_grown_interactions_and_scorer_equal_a_fresh_compile(before, added) -> None:
    g = graph_of(before)
    g.consolidate()
    cached_all(g)
    privacy = Privacy(min_people=2)
    scorer = GraphPathScorer(list(catalogue(privacy))).prepare(g)
    fork = g.fork()
    add(fork, added)
    fork.consolidate()
    delta = graph_delta(g, fork)
    grow_interactions(g, fork, delta.users)
    fresh_graph = fork.fork()
    fresh_graph._derived = {}
    assert np.array_equal(seen_matrix(fork).toarray(), seen_matrix(fresh_graph).toarray())
    for tau in (None, 3.0):
        assert np.array_equal(history_matrix(fork, tau).toarray(),
                              history_matrix(fresh_graph, tau).toarray())
    a, b = latest_times(fork, PRODUCT_RELATIONS), latest_times(fresh_graph, PRODUCT_RELATIONS)
    assert (a.row.tolist(), a.col.tolist(), a.data.tolist()) == (
        b.row.tolist(), b.col.tolist(), b.data.tolist())

    grown = grown_scorer(scorer, fork, delta)
    want = GraphPathScorer.from_state(fresh_graph, scorer.state())
    assert [m.name for m in grown.metapaths_] == [m.name for m in want.metapaths_]
    for mp in grown.metapaths_:
        for j, (x, y) in enumerate(zip(grown.steps_[mp.name], want.steps_[mp.name],
                                       strict=True)):
            assert np.array_equal(x.toarray(), y.toarray()), (mp.name, j)
            if not delta.touches(step_inputs(mp.steps[j])):
                assert x is scorer.steps_[mp.name][j]
    assert np.array_equal(grown.seen_.toarray(), want.seen_.toarray())
    users = np.arange(N_USERS)
    assert np.array_equal(grown.score_dense(users), want.score_dense(users))


def test_a_new_rating_changes_the_co_rated_rows_it_reaches() -> None:
    rated = [(u, "rated", p, 1 + (u + p) % 5, u + p) for u in range(N_USERS)
             for p in range(N_PRODUCTS) if (u * p) % 4 != 1]
    g = graph_of(rated)
    g.consolidate()
    scorer = GraphPathScorer(list(catalogue(Privacy(min_people=2)))).prepare(g)
    fork = g.fork()
    add(fork, [(1, "rated", 5, 5, 99)])  # u1 had not rated p5 ((1 * 5) % 4 == 1)
    grown = grown_scorer(scorer, fork, graph_delta(g, fork))
    old, new = scorer.steps_["rated>co_rated"][1], grown.steps_["rated>co_rated"][1]
    changed = np.flatnonzero(np.abs(old.toarray() - new.toarray()).sum(axis=1))
    assert 5 in changed.tolist() and len(changed) > 1
    fresh = fork.fork()
    fresh._derived = {}
    want = GraphPathScorer.from_state(fresh, scorer.state()).steps_["rated>co_rated"][1]
    assert np.array_equal(new.toarray(), want.toarray())
