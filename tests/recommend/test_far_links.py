"""Connections for a user with no product history (recommend/paths/far_links.py): through
their groups, the people they follow and what they are into; never a private act shown."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths.connection import CONNECTION_NOTE, connection_path
from recommend.paths.far_links import far_link, followee_post_link, group_link, reached_link
from recommend.paths.privacy import hop_exists, violations


def world(group_viewers: int = 5, group_buyers: int = 0) -> KnowledgeGraph:
    """``user:me`` has no product: a group, a followee, an interest, a comment."""
    g = KnowledgeGraph()
    g.add_node("user:me", name="Me")
    g.add_node("user:mia", name="Mia", attributes={"handle": "mia"})
    g.add_node("user:zed", name="Zed", attributes={"handle": "zed"})
    g.add_node("segment:cluster-1", name="the shoppers into Running")
    g.add_node("segment:gender-male", name="gender: male", facet="gender", value="male")
    for p, title in (("X", "Trail Shoe"), ("Q", "Night Cream"), ("R", "Road Sock")):
        g.add_node(f"product:{p}", title=title)
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("concept:night", name="night")
    g.add_edges("made_by", ["product:X"], ["brand:hoka"])
    g.add_edges("about", ["product:Q"], ["concept:night"])
    g.add_edges("member_of", ["user:me", "user:me"], ["segment:cluster-1", "segment:gender-male"])
    # (one member did nothing: a count over every other member would name each)
    g.add_edges("member_of", ["user:idle"] * 2, ["segment:cluster-1", "segment:gender-male"])
    members = [f"user:g{k}" for k in range(max(group_viewers, group_buyers))]
    g.add_edges("member_of", members, ["segment:cluster-1"] * len(members))
    g.add_edges("member_of", members, ["segment:gender-male"] * len(members))
    g.add_edges("viewed", members[:group_viewers], ["product:X"] * group_viewers)
    if group_buyers:
        g.add_edges("purchased", members[:group_buyers], ["product:X"] * group_buyers)
    g.add_edges("follows", ["user:me"], ["user:mia"])
    return g


def test_group_link_counts_members_of_a_group_that_is_not_demographic() -> None:
    g = world(group_viewers=5)
    nodes, edges = group_link(g, "user:me", "product:X", min_people=5)
    assert nodes == ("user:me", "segment:cluster-1", "product:X")
    assert edges[1] == ("segment:cluster-1", "members_engaged", "product:X")
    path = connection_path(g, "user:me", "product:X")
    assert path is not None and path.reason == "connection"
    assert path.text == ("You are one of the shoppers into Running; 5 of them showed interest "
                         "in Trail Shoe" + CONNECTION_NOTE)
    assert all(hop_exists(g, e) for e in path.edges)
    assert violations(g, "user:me", path.edges) == []


def test_group_link_prefers_the_strongest_act_and_needs_min_people() -> None:
    g = world(group_viewers=6, group_buyers=5)
    _, edges = group_link(g, "user:me", "product:X", min_people=5)
    assert edges[1][1] == "members_bought"
    g = world(group_viewers=4)
    assert group_link(g, "user:me", "product:X", min_people=5) is None
    # 6 men viewed it: the demographic segment is never used, whatever its count
    g.add_edges("member_of", ["user:m1", "user:m2"], ["segment:gender-male"] * 2)
    g.add_edges("viewed", ["user:m1", "user:m2"], ["product:X"] * 2)
    assert group_link(g, "user:me", "product:X", min_people=5) is None
    assert group_link(g, "user:me", "product:X", min_people=4)[0][1] == "segment:cluster-1"


def post_world(author: str, act: str) -> KnowledgeGraph:
    g = world(group_viewers=0)
    g.add_node("post:s1", text="new hoka drop")
    g.add_edges("authored", [author], ["post:s1"])
    if act != "authored":
        g.add_edges(act, ["user:mia"], ["post:s1"])
    g.add_edges("mentions", ["post:s1"], ["brand:hoka"])
    return g


def test_a_followees_public_post_about_the_items_brand() -> None:
    g = post_world("user:mia", "authored")
    nodes, _ = followee_post_link(g, "user:me", "product:X")
    assert nodes == ("user:me", "user:mia", "post:s1", "brand:hoka", "product:X")
    path = connection_path(g, "user:me", "product:X")
    assert path is not None
    assert path.text == ("You follow @mia, who wrote a post about Hoka; Hoka makes Trail Shoe"
                         + CONNECTION_NOTE)
    assert all(g.has_edge(*e) for e in path.edges)
    assert violations(g, "user:me", path.edges) == []
    liked = connection_path(post_world("user:zed", "liked"), "user:me", "product:X")
    assert liked is not None and liked.text.startswith("You follow @mia, who liked @zed's post")


@pytest.mark.parametrize("act", ["viewed", "clicked"])
def test_a_followees_private_act_on_a_post_is_no_link(act: str) -> None:
    g = post_world("user:zed", act)
    assert followee_post_link(g, "user:me", "product:X") is None
    assert far_link(g, "user:me", "product:X", min_people=5) is None


def reach_world(people: int, via: str) -> KnowledgeGraph:
    g = world(group_viewers=0)
    if via == "interest":
        g.add_edges("interested_in", ["user:me"], ["concept:night"])
    else:
        g.add_node("post:s2", text="my night routine")
        g.add_edges("authored", ["user:zed"], ["post:s2"])
        g.add_edges("commented", ["user:me"], ["post:s2"])
        g.add_edges("mentions", ["post:s2"], ["product:Q"])
    others = [f"user:o{k}" for k in range(people)]
    g.add_edges("viewed", others * 2, ["product:Q"] * people + ["product:R"] * people)
    return g


@pytest.mark.parametrize("via", ["interest", "post"])
def test_a_product_reached_through_an_interest_or_a_post_then_co_interest(via: str) -> None:
    g = reach_world(5, via)
    nodes, edges = reached_link(g, "user:me", "product:R", min_people=5)
    assert nodes[2:] == ("product:Q", "product:R")
    assert edges[2] == ("product:Q", "co_viewed", "product:R")
    path = connection_path(g, "user:me", "product:R")
    assert path is not None and all(hop_exists(g, e) for e in path.edges)
    assert violations(g, "user:me", path.edges) == []
    want = ("You are into night; Night Cream is about night" if via == "interest"
            else "You commented on @zed's post about Night Cream")
    assert path.text == (want + "; 5 people who viewed Night Cream also viewed Road Sock"
                         + CONNECTION_NOTE)
    assert reached_link(reach_world(4, via), "user:me", "product:R", min_people=5) is None


def test_the_group_comes_first_and_nothing_is_made_up() -> None:
    g = reach_world(5, "interest")
    g.add_edges("viewed", [f"user:g{k}" for k in range(5)], ["product:R"] * 5)
    g.add_edges("member_of", [f"user:g{k}" for k in range(5)], ["segment:cluster-1"] * 5)
    assert far_link(g, "user:me", "product:R", min_people=5)[0][1] == "segment:cluster-1"
    assert far_link(world(group_viewers=0), "user:me", "product:R", min_people=5) is None
    assert far_link(g, "user:nobody", "product:R", min_people=5) is None


def sock_world(near: int, far: int) -> KnowledgeGraph:
    """:func:`reach_world` (``near`` people viewed Q and R) and a post of the followed mia
    about S, which ``far`` people viewed along with R."""
    g = reach_world(near, "interest")
    g.add_node("product:S", title="Trail Sock")
    g.add_node("post:s3", text="sock haul")
    g.add_edges("authored", ["user:mia"], ["post:s3"])
    g.add_edges("mentions", ["post:s3"], ["product:S"])
    both = [f"user:o{k}" for k in range(far)]
    g.add_edges("viewed", both, ["product:S"] * far)
    g.add_edges("viewed", both[near:], ["product:R"] * max(far - near, 0))
    return g


def test_a_product_a_followees_post_mentions_only_when_nothing_nearer() -> None:
    # 6 people viewed S and R, 5 viewed Q and R: the nearer Q is said all the same
    assert reached_link(sock_world(5, 6), "user:me", "product:R", min_people=5)[0][2] \
        == "product:Q"
    g = sock_world(4, 5)
    path = connection_path(g, "user:me", "product:R")
    assert path is not None
    assert path.nodes == ("user:me", "user:mia", "post:s3", "product:S", "product:R")
    assert path.text == ("You follow @mia, who wrote a post about Trail Sock; 5 people who "
                         "viewed Trail Sock also viewed Road Sock" + CONNECTION_NOTE)
    assert violations(g, "user:me", path.edges) == []
    assert all(hop_exists(g, e) for e in path.edges)
    assert reached_link(sock_world(3, 4), "user:me", "product:R", min_people=5) is None


def _followee_post_link_per_pair(g: KnowledgeGraph, user: str, item: str):
    """The per-(followee, act) search followee_post_link replaced (np.intersect1d per pair):
    its answers are the reference."""
    import numpy as np

    from recommend.paths.far_links import POST_ACTS, _followee_posts, _out
    from recommend.paths.user_reasons import ATTRIBUTES

    acts = _followee_posts(g, user)
    for rel, node_type, _ in ATTRIBUTES:
        for entity in _out(g, item, rel, f"{node_type}:"):
            about = [nb.indices for nb in g.neighbor_indices(entity, "mentions", "in")
                     if nb.node_type == "post"]
            if not about or not acts:
                continue
            hits = sorted((f, POST_ACTS.index(act), g.node_id("post", int(q)))
                          for f, act, mine in acts
                          for q in np.intersect1d(mine, np.concatenate(about)).tolist())
            if hits:
                f, k, post = hits[0]
                return ((user, f, post, entity, item),
                        ((user, "follows", f), (f, POST_ACTS[k], post),
                         (post, "mentions", entity), (item, rel, entity)))
    return None


@pytest.mark.parametrize("seed", range(30))
def test_followee_post_link_matches_the_per_pair_search(seed: int) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    # posts added out of id order ("post:p12" sorts before "post:p3"), repeated acts
    posts = [f"post:p{k}" for k in rng.permutation(15)]
    for p in posts:
        g.add_node(p, text=p)
    people = [f"user:u{k}" for k in range(6)]
    g.add_edges("follows", ["user:me"] * 4, [people[k] for k in rng.choice(6, 4, replace=False)])
    for act in ("authored", "shared", "liked", "commented", "viewed"):
        n = int(rng.integers(0, 25))
        g.add_edges(act, [people[k] for k in rng.integers(0, 6, n)],
                    [posts[k] for k in rng.integers(0, 15, n)])
    entities = ["brand:b0", "brand:b1", "category:c0", "concept:n0", "concept:n1"]
    for rel, e in zip(("made_by", "made_by", "in_category", "about", "about"), entities,
                      strict=True):
        g.add_edges(rel, ["product:X"], [e])
    n = int(rng.integers(1, 25))
    g.add_edges("mentions", [posts[k] for k in rng.integers(0, 15, n)],
                [entities[k] for k in rng.integers(0, 5, n)])
    assert followee_post_link(g, "user:me", "product:X") == \
        _followee_post_link_per_pair(g, "user:me", "product:X")
