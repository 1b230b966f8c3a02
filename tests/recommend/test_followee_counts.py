"""Counts over the people a user follows: "5 people you follow rated it", scored and shown
without naming anyone, never below the privacy minimum, never over someone else's follows."""

from __future__ import annotations

import numpy as np

from kg.delta import graph_delta
from kg.graph import KnowledgeGraph
from recommend.paths import GraphPathScorer, available_metapaths, metapath_matrix
from recommend.paths.explain import explain_paths_many
from recommend.paths.grow import grown_scorer
from recommend.paths.metapaths import catalogue
from recommend.paths.privacy import Privacy, people, violations
from recommend.paths.sentences import render_path


def trust_shop(raters_of_a: int = 6) -> KnowledgeGraph:
    """``me`` follows 8 people (and herself); ``raters_of_a`` of them rated A, 3 rated B, one
    rated only C; a stranger who rated A too is not followed."""
    g = KnowledgeGraph()
    g.add_node("user:me", name="Me")
    friends = [f"user:f{k}" for k in range(8)]
    for f in friends:
        g.add_node(f, name=f, attributes={"handle": f.partition(":")[2]})
    for p, title in (("A", "Ceramic Pan"), ("B", "Oven Mitt"), ("C", "Egg Timer")):
        g.add_node(f"product:{p}", title=title)
    g.add_edges("follows", ["user:me"] * 9, [*friends, "user:me"])
    g.add_edges("rated", friends[:raters_of_a] + friends[:3] + [friends[7], "user:x", "user:me"],
                ["product:A"] * raters_of_a + ["product:B"] * 3 + ["product:C"] * 3)
    return g


def followee_path(g: KnowledgeGraph):
    (mp,) = [m for m in available_metapaths(g) if m.name == "followees>rated"]
    return mp


def test_the_count_needs_min_people_of_the_users_own_follows():
    g = trust_shop()
    m = metapath_matrix(g, followee_path(g)).toarray()
    me = g.index("user:me")
    # A: 6 followees rated it (>= 5); B: 3; C: 1 (and the stranger and herself do not count)
    assert m[me, g.index("product:A")] > 0
    assert m[me, g.index("product:B")] == 0 and m[me, g.index("product:C")] == 0
    assert people(g, ("user:me", "followees_rated", "product:A")) == 6
    assert people(g, ("user:me", "followees_rated", "product:C")) == 1
    assert m[g.index("user:f0")].sum() == 0  # follows nobody


def test_every_one_the_user_follows_is_never_counted():
    """Following 8 people of whom all 8 rated A, "8 people you follow rated A" would tell
    what each of them did: neither scored nor shown."""
    g = trust_shop(raters_of_a=8)
    me, a = g.index("user:me"), g.index("product:A")
    assert people(g, ("user:me", "followees_rated", "product:A")) == 8
    assert metapath_matrix(g, followee_path(g)).toarray()[me, a] == 0
    assert violations(g, "user:me", [("user:me", "followees_rated", "product:A")])
    seven = trust_shop(raters_of_a=7)  # one of the 8 did not: nobody's act is told
    assert metapath_matrix(seven, followee_path(seven)).toarray()[me, a] > 0
    assert not violations(seven, "user:me", [("user:me", "followees_rated", "product:A")])


def test_four_raters_are_not_enough():
    g = trust_shop(raters_of_a=4)
    assert not metapath_matrix(g, followee_path(g)).toarray().any()


def test_the_sentence_counts_and_names_nobody():
    g = trust_shop()
    edge = ("user:me", "followees_rated", "product:A")
    assert violations(g, "user:me", [edge]) == []
    assert render_path(g, ("user:me", "product:A"), (edge,)) == \
        "6 people you follow rated Ceramic Pan"
    # the same hop shown to someone else, or over too few people, is refused
    assert violations(g, "user:f0", [edge])
    assert violations(g, "user:me", [("user:me", "followees_rated", "product:C")])
    assert violations(g, "user:me", [edge], min_people=7)


def test_the_social_scorer_explains_it():
    g = trust_shop()
    mp = followee_path(g)
    scorer = GraphPathScorer([mp]).prepare(g)
    (paths,) = explain_paths_many(g, "user:me", ["product:A"], [mp], [1.0],
                                  steps=scorer.steps_, fallback=False)
    assert [p.text for p in paths] == ["6 people you follow rated Ceramic Pan"]
    (none,) = explain_paths_many(g, "user:me", ["product:B"], [mp], [1.0],
                                 steps=scorer.steps_, fallback=False)
    assert none == []


def test_catalogue_needs_follows_and_the_interaction():
    g = trust_shop()
    names = {m.name for m in available_metapaths(g)}
    assert "followees>rated" in names and "followees>bought" not in names
    bare = KnowledgeGraph()
    bare.add_edges("rated", ["user:1"], ["product:A"])
    assert not {m.name for m in available_metapaths(bare)} & {"followees>rated"}
    assert {"followees>bought", "followees>rated"} <= {
        m.name for m in catalogue()}


def test_a_new_rating_reaches_the_followers_rows():
    g = trust_shop(raters_of_a=4)
    g.consolidate()
    mp = followee_path(trust_shop())  # the 4 raters leave the graph without the meta-path
    scorer = GraphPathScorer([mp]).prepare(g)
    fork = g.fork()
    fork.add_edges("rated", ["user:f5"], ["product:A"])  # the 5th followee
    fork.consolidate()
    grown = grown_scorer(scorer, fork, graph_delta(g, fork))
    fresh = GraphPathScorer([mp]).prepare(fork)
    me = np.array([fork.index("user:me")])
    assert grown.score_dense(me)[0, fork.index("product:A")] > 0
    assert np.array_equal(grown.score_dense(me), fresh.score_dense(me))


def test_grown_follows_and_ratings_equal_a_fresh_compile():
    rng = np.random.default_rng(5)
    g = KnowledgeGraph()
    users = [f"user:{u}" for u in range(12)]
    for u in users:
        g.add_node(u, name=u)
    for p in range(5):
        g.add_node(f"product:{p}", title=f"P{p}")

    def some(n: int) -> tuple[list[str], list[str]]:
        return ([users[u] for u in rng.integers(12, size=n)],
                [f"product:{p}" for p in rng.integers(5, size=n)])

    g.add_edges("follows", [users[u] for u in rng.integers(12, size=60)],
                [users[u] for u in rng.integers(12, size=60)])
    g.add_edges("rated", *some(40))
    g.consolidate()
    mps = [m for m in catalogue(Privacy(min_people=2)) if m.name.startswith("followees>")]
    scorer = GraphPathScorer(available_metapaths(g, mps)).prepare(g)
    fork = g.fork()
    fork.add_edges("rated", *some(6))
    fork.consolidate()
    grown = grown_scorer(scorer, fork, graph_delta(g, fork))
    fresh = GraphPathScorer.from_state(fork, scorer.state())
    every = np.arange(12)
    assert grown.score_dense(every).any()
    assert np.allclose(grown.score_dense(every), fresh.score_dense(every))
