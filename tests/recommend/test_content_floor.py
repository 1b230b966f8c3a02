"""Content paths that cannot reach the item's floor are counted, not made."""

from __future__ import annotations

from recommend.hybrid.evidence import Evidence
from recommend.paths.alike import shared_path, shares_any
from recommend.paths.pool import content_floor, path_values
from recommend.paths.reasons import evidence_paths
from recommend.paths.user_reasons import UserReasons, own_products
from tests.recommend.evidence_shop import shop


def bigger_shop():
    """The evidence shop, user:1 also bought W (in "all", with B) and X (nothing shared)."""
    g = shop()
    g.add_node("product:W", title="Item W")
    g.add_node("product:X", title="Item X")
    g.add_edges("purchased", ["user:1", "user:1"], ["product:W", "product:X"], ts=[1.0, 2.0])
    g.add_edges("in_category", ["product:W"], ["category:all"])
    return g


def paths(g, links, unseen=None, per_component=2):
    ev = Evidence("content", 0.5, tuple((g.index(f"product:{p}"), f) for p, f in links))
    return [c for _, _, c in evidence_paths(g, "user:1", "product:B", [ev],
                                            own_products(g, "user:1"), min_people=5,
                                            per_component=per_component, unseen=unseen)]


def starts(found):
    return [c[2][1] for c in found]


def test_a_path_below_its_bound_is_counted_not_made() -> None:
    g = bigger_shop()
    links = [("A", 0.5), ("V", 0.3), ("W", 0.2)]
    assert starts(paths(g, links)) == ["product:A", "product:V"]
    # V's path (0.5 * 0.3) cannot reach 0.2: counted, so W is not tried (nor made)
    assert starts(paths(g, links, (0.2, {}))) == ["product:A"]
    # what V's path may merge with lowers its bound: made, as without one
    v = ("product", g.index("product:V"))
    assert paths(g, links, (0.2, {v: 0.1})) == paths(g, links)
    # every path made is the one made without the bound
    assert paths(g, links, (0.2, {}))[0] == paths(g, links)[0]


def test_a_link_with_no_path_is_not_counted() -> None:
    g = bigger_shop()
    links = [("A", 0.5), ("X", 0.3), ("W", 0.2)]
    assert starts(paths(g, links)) == ["product:A", "product:W"]  # X shares nothing with B
    w = ("product", g.index("product:W"))
    # X's path (0.15) is below its bound, but there is none: not counted, so W is made
    assert paths(g, links, (0.16, {w: 0.1})) == paths(g, links)
    assert starts(paths(g, links, (0.16, {}))) == ["product:A"]  # W: counted, not made


def test_shares_any_is_whether_shared_path_finds_one() -> None:
    g = bigger_shop()
    context = UserReasons(g, "user:1", own_products(g, "user:1"))
    for a in "ABCVWXZ":
        for item in "ABCVWXZ":
            one, other = f"product:{a}", f"product:{item}"
            assert shares_any(context, one, other) == (shared_path(context, one, other)
                                                       is not None)


def test_content_floor_adds_every_meta_path_path_through_a_product() -> None:
    from recommend.paths.metapaths import MetaPath, Step

    same = MetaPath("bought>same_category", (Step("purchased", "out", "product"),
                                             Step("in_category", "out"),
                                             Step("in_category", "in")))
    interest = MetaPath("interest>category", (Step("interested_in", "out", "category"),
                                              Step("in_category", "in")))
    raw = [(0.1, "graph", (0.1, same.name, (0, 3, 7, 9), 1), same, same.types, False, 1.0),
           (0.2, "graph", (0.2, same.name, (0, 3, 8, 9), 1), same, same.types, False, 1.0),
           (0.05, "graph", (0.05, same.name, (0, 3, 7, 9), 1), same, same.types, False, 1.0),
           (0.4, "graph", (0.4, same.name, (0, 4, 7, 9), 1), same, same.types, False, 1.0),
           (0.3, "graph", (0.3, interest.name, (0, 3, 9), 1), interest, interest.types, False,
            1.0)]
    bound, through = content_floor(path_values(raw)[1], 0.75)
    assert bound == 0.75
    assert through == {("product", 3): 0.1 + 0.2 + 0.05, ("product", 4): 0.4,
                       ("category", 3): 0.3}


def test_the_popularity_path_through_a_product_lowers_that_products_bound() -> None:
    g = bigger_shop()
    own = own_products(g, "user:1")
    a, v = g.index("product:A"), g.index("product:V")
    content = Evidence("content", 0.5, ((a, 0.1), (v, 0.1)))

    def found(*evidence, unseen=None):
        return [(name, c[2][1]) for name, _, c in evidence_paths(
            g, "user:1", "product:B", list(evidence), own, min_people=5, unseen=unseen)]

    popular = Evidence("popularity", 0.3)
    both = found(content, popular)
    assert both == [("content", "product:A"), ("content", "product:V"),
                    ("popularity", "product:A")]  # (popularity: You bought A, in "all")
    # each content path (0.05) is below 0.2, but A's may be the popularity path (0.3)
    assert found(content, popular, unseen=(0.2, {})) == [both[0], both[2]]
    assert found(content, unseen=(0.2, {})) == []


def shop_with_a_post():
    """:func:`bigger_shop` with product P (in "all"), which user 1's post q mentions."""
    g = bigger_shop()
    g.add_node("product:P", title="Item P")
    g.add_node("post:q", text="P is great")
    g.add_edges("in_category", ["product:P"], ["category:all"])
    g.add_edges("authored", ["user:1"], ["post:q"], ts=[3.0])
    g.add_edges("mentions", ["post:q"], ["product:P"])
    return g


def test_a_path_through_your_post_is_bounded_by_what_goes_through_that_post() -> None:
    g = shop_with_a_post()
    links = [("P", 0.3), ("W", 0.2)]
    assert [c[2][1:3] for c in paths(g, links)] == [("post:q", "product:P"),
                                                     ("product:W", "category:all")]
    assert starts(paths(g, links, (0.2, {}))) == []  # both below: both counted, none made
    q = ("post", g.index("post:q"))
    assert paths(g, links, (0.2, {q: 0.1}))[0] == paths(g, links)[0]
    assert len(paths(g, links, (0.2, {q: 0.1}))) == 1  # (W's is counted, not made)


def test_loops_says_whether_a_hop_joins_a_node_to_itself() -> None:
    from recommend.paths.pool import loops

    assert loops((("user", "product", "product"), (0, 4, 4)))
    assert not loops((("user", "product", "category", "product"), (0, 4, 2, 4)))
    assert loops((("user", "product"), (3, 3)))  # (the indices alone are compared)


def test_post_routes_kept_across_items_give_what_each_item_alone_gives() -> None:
    g = shop_with_a_post()
    own = own_products(g, "user:1")
    context = UserReasons(g, "user:1", own)
    ev = Evidence("content", 0.5, ((g.index("product:P"), 0.3), (g.index("product:W"), 0.2)))
    q = ("post", g.index("post:q"))
    kept: dict = {}
    for item in ("product:B", "product:P", "product:W", "product:B"):
        for unseen in (None, (0.2, {q: 0.1}), (0.2, {})):
            alone = evidence_paths(g, "user:1", item, [ev], own, min_people=5,
                                   per_component=2, unseen=unseen)
            assert evidence_paths(g, "user:1", item, [ev], own, min_people=5, per_component=2,
                                  context=context, unseen=unseen, via_posts=kept) == alone
    # what is kept: P's route through the post, and the post as the floor keys it
    route, second = kept["product:P"]
    assert route == (("user:1", "post:q", "product:P"),
                     (("user:1", "authored", "post:q"), ("post:q", "mentions", "product:P")))
    assert second == q
    assert list(kept) == ["product:P"]  # W is the user's own: no route through a post
