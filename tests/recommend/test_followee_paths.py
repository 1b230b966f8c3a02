"""A path through someone the user follows, named for a public act, needs no privacy check:
:func:`~recommend.paths.path.can_violate` says so only where :func:`violations` never
finds anything, on every instance."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths import MetaPath, Privacy, Step, iter_instances
from recommend.paths.metapaths import catalogue, step_matrices
from recommend.paths.path import built_path, can_violate, path_kind
from recommend.paths.privacy import demographic_ids, violations

FOLLOWS = Step("follows", "out", "user")
FOLLOWERS = Step("follows", "in", "user")
OTHERS = [
    MetaPath("followers>posted", (FOLLOWERS, Step("authored", "out", "post"),
                                  Step("mentions", "out", "product"))),
    MetaPath("follows>purchased", (FOLLOWS, Step("purchased", "out", "product"))),
    MetaPath("follows>follows>liked", (FOLLOWS, FOLLOWS, Step("liked", "out", "product"))),
    MetaPath("liked>likers>liked", (Step("liked", "out", "product"), Step("liked", "in", "user"),
                                    Step("liked", "out", "product"))),
]


def social() -> KnowledgeGraph:
    """me follows f1, f2 (and themselves); f2 follows x, x follows me; each posts about, likes
    and buys products (A liked by three)."""
    g = KnowledgeGraph()
    for p in "ABCD":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("follows", ["user:me", "user:me", "user:me", "user:f2", "user:x"],
                ["user:f1", "user:f2", "user:me", "user:x", "user:me"])
    people = ["user:me", "user:f1", "user:f2", "user:x"]
    g.add_edges("authored", people * 2, [f"post:{k}" for k in range(8)])
    g.add_edges("mentions", [f"post:{k}" for k in range(8)],
                [f"product:{p}" for p in "ABCDDCBA"])
    for rel in ("liked", "purchased", "shared", "commented"):
        g.add_edges(rel, people, ["product:A", "product:B", "product:C", "product:D"])
    g.add_edges("liked", ["user:x", "user:f1"], ["product:A", "product:A"])
    return g


def every_path(g: KnowledgeGraph, mp: MetaPath):
    """Every instance of ``mp`` from every user to every product, as built paths' edges."""
    mats = step_matrices(g, mp)
    kind = path_kind(mp)
    for user in g.nodes("user"):
        for item in g.nodes("product"):
            for idx, value in iter_instances(mats, g.index(user), g.index(item)):
                path = built_path(g, user, (value, mp.name, idx, 1), mp, kind[1], False, 1.0,
                                  Privacy(), demographic_ids(g))
                yield user, path.edges


@pytest.mark.parametrize("mp", [m for m in catalogue() if m.types[1] == "user"] + OTHERS,
                         ids=lambda m: m.name)
def test_a_path_said_safe_never_shows_what_privacy_forbids(mp: MetaPath) -> None:
    g = social()
    safe = not path_kind(mp)[2]
    paths = list(every_path(g, mp))
    assert paths  # (the graph has instances of each)
    if safe:
        for user, edges in paths:
            assert violations(g, user, edges, min_people=1) == [], (mp.name, user, edges)
    else:  # some instance of each of these shows what no one may see
        assert any(violations(g, user, edges, min_people=1) for user, edges in paths), mp.name


def test_only_a_followee_named_for_a_public_act_is_safe() -> None:
    assert not path_kind(next(m for m in catalogue() if m.name == "follows>posted"))[2]
    assert not can_violate(("user", "user", "product"), ("follows", "liked"), ("out", "out"))
    assert can_violate(("user", "user", "product"), ("follows", "liked"))  # (no directions)
    assert can_violate(("user", "user", "product"), ("follows", "liked"), ("in", "out"))
    assert can_violate(("user", "user", "product"), ("follows", "rated"), ("out", "out"))
    assert can_violate(("user", "user", "segment"), ("follows", "member_of"), ("out", "out"))
    assert can_violate(("user", "user", "product"), ("follows", "co_liked"), ("out", "out"))
    assert can_violate(("user", "product", "user", "product"),
                       ("liked", "liked", "liked"), ("out", "in", "out"))


def test_weighted_kinds_are_the_weighted_meta_paths_and_follow_new_weights() -> None:
    import numpy as np

    from recommend.paths.path import weighted_kinds

    mps = [m for m in catalogue() if m.types[1] == "user"][:3]
    weights = np.array([0.5, 0.0, 0.5])
    kinds, relations = weighted_kinds(mps, weights)
    assert kinds == {m.name: path_kind(m) for m in (mps[0], mps[2])}
    assert relations == {mps[0].relations, mps[2].relations}
    assert weighted_kinds(mps, weights)[0] is kinds  # made once
    other = np.array([0.0, 1.0, 0.0])  # a refit's new weights: made again
    assert weighted_kinds(mps, other) == ({mps[1].name: path_kind(mps[1])},
                                          {mps[1].relations})


def old_violations(graph, you, edges, *, min_people=5, demographic=None):
    """:func:`violations` as it was (6b5a376): each hop's relation tested in turn (with the
    reader counted out since)."""
    from recommend.paths.privacy import (
        AGGREGATES,
        COUNTED,
        FOLLOWEE_AGGREGATES,
        PERSONAL_RELATIONS,
        _followed,
        people,
    )
    from recommend.paths.sequence import SequenceHop

    out = []
    demographic = demographic_ids(graph) if demographic is None else demographic
    followed = None
    for src, rel, dst in edges:
        for end in (src, dst):
            if end in demographic:
                out.append(f"rests on the demographic segment {end}")
            if end != you and end.startswith("user:"):
                if followed is None:
                    followed = {d for s, r, d in edges if r == "follows" and s == you}
                if end not in followed:
                    out.append(f"names {end}, whom {you or 'nobody'} follows")
                elif rel in PERSONAL_RELATIONS:
                    out.append(f"shows {end}'s private {rel} edge")
        if rel in FOLLOWEE_AGGREGATES and src != you:
            out.append(f"{src} {rel} {dst} counts the follows of someone else")
        elif rel in FOLLOWEE_AGGREGATES and people(graph, (src, rel, dst)) >= len(
                _followed(graph, src)):
            out.append(f"{src} {rel} {dst} counts every one {src} follows, naming each")
        elif (rel in AGGREGATES or rel in COUNTED or SequenceHop.parse(rel) is not None) \
                and people(graph, (src, rel, dst)) - _acted_on_both(graph, you, src, dst) \
                < min_people:
            out.append(f"{src} {rel} {dst} is over fewer than {min_people} people"
                       + (f" besides {you}" if people(graph, (src, rel, dst)) >= min_people
                          else ""))
    return out


def _acted_on_both(graph, you, src, dst) -> bool:
    """Whether ``you`` has an event on both products (session 27: a count shown to them
    reaches min_people without them; no product here is a post-tier one)."""
    from kg.interactions import PRODUCT_RELATIONS

    took = {e.dst for r in PRODUCT_RELATIONS for e in graph.neighbors(you, r)}
    return src in took and dst in took


@pytest.mark.parametrize("seed", range(10))
def test_violations_finds_what_it_found_hop_by_hop(seed: int) -> None:
    import numpy as np

    g = social()
    g.add_edges("purchased", ["user:f1", "user:f2", "user:x"], ["product:B"] * 3)
    rng = np.random.default_rng(seed)
    nodes = [*g.nodes("user"), *g.nodes("product"), "post:1"]
    rels = ["follows", "liked", "purchased", "authored", "followees_bought", "co_purchased",
            "co_liked", "co_bought", "next_within_3600.0s_lag1", "mentions"]
    for _ in range(60):
        edges = [(str(rng.choice(nodes)), str(rng.choice(rels)), str(rng.choice(nodes)))
                 for _ in range(int(rng.integers(1, 4)))]
        you = str(rng.choice(g.nodes("user")))
        for k in (1, 2, 5):
            assert violations(g, you, edges, min_people=k) == old_violations(
                g, you, edges, min_people=k), edges
