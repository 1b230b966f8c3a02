"""Two products of one title in a path each say their id: "112 people who rated Chasing Amy
also rated Chasing Amy" (ML-100K holds two such films) read as a product explaining itself."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.paths.sentences import render_path


def _shop(second_title: str) -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("product:A", title="Chasing Amy")
    g.add_node("product:B", title=second_title)
    g.add_node("brand:m", name="Miramax")
    g.add_edges("purchased", ["user:1"], ["product:A"], ts=[1.0])
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:m", "brand:m"])
    return g


PATH = (("user:1", "product:A", "brand:m", "product:B"),
        (("user:1", "purchased", "product:A"), ("product:A", "made_by", "brand:m"),
         ("product:B", "made_by", "brand:m")))


def test_two_products_of_one_title_in_a_path_say_their_ids() -> None:
    text = render_path(_shop("Chasing Amy"), *PATH, now=1.0)
    assert text == ("You bought Chasing Amy (A) today; Miramax makes Chasing Amy (A) and "
                    "Chasing Amy (B)")


def test_distinct_titles_are_left_alone() -> None:
    text = render_path(_shop("Clerks"), *PATH, now=1.0)
    assert text == "You bought Chasing Amy today; Miramax makes Chasing Amy and Clerks"


def test_a_post_about_one_of_them_names_its_id_too() -> None:
    """"You wrote a post about Mug; Hoka makes Mug (p7) and Mug (p9)": the post's product
    was not told apart."""
    g = KnowledgeGraph()
    g.add_node("product:p7", title="Mug")
    g.add_node("product:p9", title="Mug")
    g.add_node("brand:h", name="Hoka")
    g.add_node("post:1", text="love it")
    g.add_edges("authored", ["user:1"], ["post:1"])
    g.add_edges("mentions", ["post:1"], ["product:p7"])
    g.add_edges("made_by", ["product:p7", "product:p9"], ["brand:h", "brand:h"])
    nodes = ("user:1", "post:1", "product:p7", "brand:h", "product:p9")
    edges = (("user:1", "authored", "post:1"), ("post:1", "mentions", "product:p7"),
             ("product:p7", "made_by", "brand:h"), ("product:p9", "made_by", "brand:h"))
    for known in (None, {}):
        assert render_path(g, nodes, edges, known=known) == (
            "You wrote a post about Mug (p7); Hoka makes Mug (p7) and Mug (p9)")
