"""cf learned from the post tier (data whose events are all on posts): a product the user
reached only through posts gets a path that starts at the user's post and goes on over
``co_posted``, people who engaged with posts about both, never fewer than ``min_people``."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths.privacy import hop_exists, people, violations
from recommend.paths.reasons import cf_may_link, evidence_paths, evidence_types
from recommend.paths.sentences import render_path
from recommend.paths.user_reasons import own_products


def posting_world(crowd: int) -> KnowledgeGraph:
    """user:me wrote about A; ``crowd`` people each liked a post about A and wrote about B;
    nobody has a product event."""
    g = KnowledgeGraph()
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("authored", ["user:me"], ["post:mine"], ts=[5.0])
    g.add_edges("mentions", ["post:mine", "post:a", "post:b"],
                ["product:A", "product:A", "product:B"])
    g.add_edges("authored", ["user:host"], ["post:a"])
    people_ = [f"user:{k}" for k in range(crowd)]
    g.add_edges("liked", people_, ["post:a"] * crowd)
    g.add_edges("authored", people_, [f"post:b{k}" for k in range(crowd)])
    g.add_edges("mentions", [f"post:b{k}" for k in range(crowd)], ["product:B"] * crowd)
    return g


def _paths(g: KnowledgeGraph):
    ev = Evidence("cf", 0.5, ((g.index("product:A"), 1.0),))
    return evidence_paths(g, "user:me", "product:B", [ev], own_products(g, "user:me"),
                          min_people=5)


def test_cf_through_the_users_post_is_a_path_over_enough_people() -> None:
    g = posting_world(crowd=5)
    assert own_products(g, "user:me") == {}  # the user's only link to A is their post
    [(component, share, (fraction, kind, nodes, edges, _))] = _paths(g)
    assert (component, share, fraction, kind) == ("cf", 0.5, 1.0, "cf>co_posted")
    assert nodes == ("user:me", "post:mine", "product:A", "product:B")
    assert edges == (("user:me", "authored", "post:mine"), ("post:mine", "mentions", "product:A"),
                     ("product:A", "co_posted", "product:B"))
    assert people(g, edges[-1]) == 5 and all(hop_exists(g, e) for e in edges)
    assert violations(g, "user:me", edges, min_people=5) == []
    assert render_path(g, nodes, edges).endswith(
        "5 people who wrote or reacted to posts about Item A did so for Item B too")
    assert cf_may_link(g, "user:me", [g.index("product:B")], 5, posts=True).all()
    assert "cf>co_posted" in evidence_types(g, ["cf"], post_tier=True)
    assert "cf>co_posted" not in evidence_types(g, ["cf"])


def test_fewer_than_min_people_give_no_path() -> None:
    g = posting_world(crowd=4)
    assert _paths(g) == []
    edge = ("product:A", "co_posted", "product:B")
    assert violations(g, "user:me", [edge], min_people=5) == [
        "product:A co_posted product:B is over fewer than 5 people"]
