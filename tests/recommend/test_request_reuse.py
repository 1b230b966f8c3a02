"""What an explained request reads once and reuses gives what reading it each time gives."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.paths.privacy import ENGAGED, doers_matrix
from recommend.paths.sentences import _post_author, _post_facts, render_path
from recommend.paths.user_reasons import UserReasons, own_products


def posts() -> KnowledgeGraph:
    """@mia wrote a post and a comment about Hoka; a post of nobody's; user:1 liked both."""
    g = KnowledgeGraph()
    g.add_node("user:mia", attributes={"handle": "mia"})
    g.add_node("user:1")
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("product:C", title="Clifton 9")
    g.add_node("post:p1", text="love these")
    g.add_node("post:c1", text="me too", kind="comment")
    g.add_node("post:lone", text="who wrote this")
    g.add_edges("authored", ["user:mia", "user:mia"], ["post:p1", "post:c1"])
    g.add_edges("mentions", ["post:p1", "post:c1"], ["brand:hoka", "brand:hoka"])
    g.add_edges("liked", ["user:1", "user:1"], ["post:p1", "post:c1"], ts=[1.0, 2.0])
    g.add_edges("made_by", ["product:C"], ["brand:hoka"])
    g.add_edges("purchased", ["user:1"], ["product:C"], ts=[3.0])
    return g


def test_post_facts_are_the_author_and_noun_read_each_time_and_follow_the_graph() -> None:
    g = posts()
    for post, noun in (("post:p1", "post"), ("post:c1", "comment"), ("post:lone", "post")):
        assert _post_facts(g, post) == (_post_author(g, post), noun)
        assert _post_facts(g, post) == _post_facts(g, post)  # (the kept answer)
    assert _post_facts(g, "post:p1")[0] == "user:mia"
    assert _post_facts(g, "post:lone")[0] is None
    g.add_node("user:zoe")
    g.add_edges("authored", ["user:zoe"], ["post:lone"])  # the graph changed: read again
    assert _post_facts(g, "post:lone") == ("user:zoe", "post")
    nodes = ("user:1", "post:c1", "brand:hoka", "product:C")
    edges = (("user:1", "liked", "post:c1"), ("post:c1", "mentions", "brand:hoka"),
             ("product:C", "made_by", "brand:hoka"))
    assert render_path(g, nodes, edges).startswith("You liked @mia's comment about Hoka")


def test_the_requests_engaged_matrix_is_the_doers_matrix() -> None:
    g = posts()
    context = UserReasons(g, "user:1", own_products(g, "user:1"))
    seen = doers_matrix(g, ENGAGED)
    kept = context.engaged()
    assert kept is context.engaged()
    assert (kept != seen).nnz == 0 and kept.shape == seen.shape


def test_kept_block_columns_are_the_blocks_and_follow_new_edges() -> None:
    from recommend.paths.quality import block_columns

    g = posts()
    for c in g.edge_blocks():
        key = (c.src_type, c.relation, c.dst_type)
        found = block_columns(g, key)
        assert (found.src_type, found.relation, found.dst_type) == key
        assert list(found.src) == list(c.src) and list(found.dst) == list(c.dst)
    assert len(block_columns(g, ("user", "liked", "post"))) == 2
    g.add_edges("liked", ["user:mia"], ["post:lone"], ts=[5.0])
    liked = block_columns(g, ("user", "liked", "post"))
    assert len(liked) == 3 and list(liked.ts) == [1.0, 2.0, 5.0]


def test_a_lists_kept_seps_are_each_paths_own() -> None:
    from recommend.paths.path import Path
    from recommend.paths.select import _sep

    g = posts()
    paths = [Path(("user:1", "post:p1", "brand:hoka", "product:C"),
                  (("user:1", "liked", "post:p1"), ("post:p1", "mentions", "brand:hoka"),
                   ("product:C", "made_by", "brand:hoka")), "m", 1.0, ""),
             Path(("user:1", "post:c1", "brand:hoka", "product:C"),
                  (("user:1", "liked", "post:c1"), ("post:c1", "mentions", "brand:hoka"),
                   ("product:C", "made_by", "brand:hoka")), "m", 1.0, ""),
             Path(("user:1", "product:C"), (("user:1", "purchased", "product:C"),), "m", 1.0,
                  "")]
    kept: dict[str, float] = {}
    together = [_sep(g, p, {}, kept) for p in paths]
    assert together == [_sep(g, p, {}, {}) for p in paths]
    assert list(kept) == ["brand:hoka"] and together[2] == 0.5  # (no shared entity: neutral)


def test_second_person_is_the_first_prefix_in_order() -> None:
    """The compiled prefixes say a clause as the loop over them (in order) did."""
    from recommend.paths.second_person import _SECOND_PERSON
    from recommend.paths.second_person import second_person as _second_person

    def by_loop(rest: str) -> str:
        for third, second in _SECOND_PERSON.items():
            if rest.startswith(third):
                return second + rest[len(third):]
        return rest

    rests = [" is into Hoka", " is in Skin Care", " follows @mia", " is also into Hoka",
             " also follows @mia, who wrote", " is one of the shoppers", " bought X",
             " is inside", " is", "", " is into ", "is into Hoka", " Is into Hoka"]
    for rest in rests:
        assert _second_person(rest) == by_loop(rest)
    assert _second_person(" is also into Hoka") == " are also into Hoka"


def test_a_popularity_path_through_your_product_is_the_strongest_other_one() -> None:
    """_in_your_category's product per category: what the old numpy filter (the rows not
    the item, their least) chose, on a shop where products share categories."""
    import numpy as np

    from recommend.paths.popular_paths import _in_your_category

    g = KnowledgeGraph()
    rng = np.random.default_rng(0)
    names = [f"product:p{j}" for j in range(12)]
    for name in names:
        g.add_node(name, title=name)
    g.add_edges("in_category", names + names[:6],
                [f"category:c{j % 3}" for j in range(12)] + ["category:c3"] * 6)
    for rel, picks in (("viewed", [0, 3, 4, 9]), ("purchased", [6, 3, 1]), ("rated", [7])):
        g.add_edges(rel, ["user:1"] * len(picks), [names[j] for j in picks],
                    ts=list(rng.random(len(picks))))
    context = UserReasons(g, "user:1", own_products(g, "user:1"))
    products, (indptr, held) = context.products()
    cats = [g.index(f"category:c{c}") for c in range(4)]
    seen = set()
    for name in names:
        i = g.index(name)
        for c in cats:
            rows = held[indptr[c]:indptr[c + 1]]
            rows = rows[np.array(products)[rows] != i]
            want = int(products[rows.min()]) if len(rows) else None
            found = _in_your_category(context, name, i, np.array([c]))
            assert (found if found is None else g.index(found[1][1])) == want
            seen.add(want)
    assert len(seen - {None}) >= 4 and None in seen  # (several products, and none)
