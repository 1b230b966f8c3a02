"""Item-to-item paths of similar products: real edges, each kind, the chosen users, sentences."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths.sentences import render_path
from recommend.similar import ItemPaths, metapath_name


def shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    titles = {"A": "Trail Mug", "B": "Camp Kettle", "C": "Clifton 9", "D": "Island Lamp",
              "E": "Camp Stove"}
    for p, title in titles.items():
        g.add_node(f"product:{p}", title=title)
    for u, name in [("1", "Ann"), ("2", "Bo"), ("3", "Cy"), ("4", "Di")]:
        g.add_node(f"user:{u}", name=name)
    g.add_node("brand:hoka", name="Hoka")
    g.add_node("category:home/mugs", name="Mugs")
    g.add_node("concept:camping", name="camping")
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:hoka"] * 2)
    g.add_edges("in_category", ["product:A", "product:B"], ["category:home/mugs"] * 2)
    # Ann bought both long ago; Bo bought A and viewed B recently; Cy and Di (same times)
    # bought both earlier than Bo, Di being the more active (she also bought E)
    g.add_edges("purchased", ["user:1", "user:1"], ["product:A", "product:B"], ts=[100, 200])
    g.add_edges("purchased", ["user:2"], ["product:A"], ts=[300])
    g.add_edges("viewed", ["user:2"], ["product:B"], ts=[400])
    g.add_edges("purchased", ["user:3", "user:3", "user:4", "user:4", "user:4"],
                ["product:A", "product:B", "product:A", "product:B", "product:E"],
                ts=[250, 260, 250, 260, 10])
    g.add_edges("co_bought", ["product:E"], ["product:A"])
    # C shares only a concept with A's photo: a 3-hop path
    g.add_edges("has_image", ["product:A"], ["image:a"])
    g.add_edges("depicts", ["image:a"], ["concept:camping"])
    g.add_edges("about", ["product:C"], ["concept:camping"])
    return g


def assert_valid(g: KnowledgeGraph, paths, source: str, target: str) -> None:
    from recommend.paths.privacy import hop_exists

    for p in paths:
        assert p.nodes[0] == source and p.nodes[-1] == target and p.kind == "similar"
        assert 1 <= len(p.edges) <= 3 and len(p.nodes) == len(p.edges) + 1
        assert len(set(p.nodes)) == len(p.nodes)
        for (src, rel, dst), a, b in zip(p.edges, p.nodes[:-1], p.nodes[1:], strict=True):
            assert hop_exists(g, (src, rel, dst)) and {src, dst} == {a, b}
        assert p.text[0].isupper() or p.text[0] in "0123456789"  # "3 people who ..."
        assert "  " not in p.text and "{" not in p.text
        assert not any(n.startswith("user:") for n in p.nodes)  # nobody is named


def test_what_people_did_is_shown_only_in_aggregate_over_enough_people() -> None:
    g = shop()
    # Ann, Cy and Di bought both A and B; Bo bought A and only viewed B
    paths = ItemPaths(g, "product:A", max_paths=5, min_people=3).paths("product:B")
    assert_valid(g, paths, "product:A", "product:B")
    assert paths[0].edges == (("product:A", "co_purchased", "product:B"),)
    assert paths[0].text[0] == "3"
    assert [p.nodes[1] for p in paths[1:]] == ["brand:hoka", "category:home/mugs"]
    assert [p.text for p in paths[1:]] == [
        "Hoka makes Trail Mug and Camp Kettle",
        "Trail Mug is in Mugs; Camp Kettle is also in Mugs",
    ]
    fewer = ItemPaths(g, "product:A", max_paths=5).paths("product:B")  # k = 5: no aggregate
    assert [p.nodes[1] for p in fewer] == ["brand:hoka", "category:home/mugs"]


def test_thin_co_purchase_rules_are_not_shown_and_three_hop_paths_are() -> None:
    g = shop()
    finder = ItemPaths(g, "product:A")
    # E -co_bought-> A rests on one buyer (Di), and Di is the only link between them
    assert all("co_bought" not in p.metapath for p in finder.paths("product:E"))
    assert_valid(g, finder.paths("product:E"), "product:A", "product:E")
    photo = finder.paths("product:C")
    assert_valid(g, photo, "product:A", "product:C")
    assert [p.nodes for p in photo] == [("product:A", "image:a", "concept:camping", "product:C")]
    assert photo[0].text == "The photo of Trail Mug shows camping; Clifton 9 is about camping"
    assert photo[0].metapath == "product-has_image->image-depicts->concept<-about-product"


def test_no_path_is_empty_and_unknown_items_are_named() -> None:
    g = shop()
    assert ItemPaths(g, "product:A").paths("product:D") == []
    with pytest.raises(KeyError, match="product:nope"):
        ItemPaths(g, "product:A").paths("product:nope")
    with pytest.raises(KeyError, match="product:nope"):
        ItemPaths(g, "product:nope")
    with pytest.raises(ValueError, match="max_paths"):
        ItemPaths(g, "product:A", max_paths=0)
    with pytest.raises(ValueError, match="product:A"):
        ItemPaths(g, "product:A").paths("product:A")


def test_item_paths_render_without_you_and_user_paths_still_do() -> None:
    g = shop()
    nodes = ("product:A", "user:1", "product:B")
    edges = (("user:1", "purchased", "product:A"), ("user:1", "purchased", "product:B"))
    assert render_path(g, nodes, edges, first_person=False) == \
        "Ann bought Trail Mug and Camp Kettle"
    assert metapath_name(nodes, edges) == "product<-purchased-user-purchased->product"
    assert render_path(g, ("user:4", "product:A", "user:3", "product:B"),
                       (("user:4", "purchased", "product:A"),
                        ("user:3", "purchased", "product:A"),
                        ("user:3", "purchased", "product:B"))) == \
        "You bought Trail Mug today; Cy also bought Trail Mug and Camp Kettle"


def test_a_user_product_edge_is_shown_as_a_recommendation_shows_it() -> None:
    """similar's paths and kg.links pick the same one of a user's relations to a product
    (similar had rated before carted, links carted before rated)."""
    from kg.links import STRONGEST_FIRST, Around, LinkFinder
    from recommend.similar import _edge

    g = KnowledgeGraph()
    g.add_node("product:A", title="Trail Mug")
    g.add_node("product:B", title="Camp Kettle")
    g.add_edges("purchased", ["user:1"], ["product:A"])
    for rel in ("viewed", "rated", "liked", "carted"):
        g.add_edges(rel, ["user:1"], ["product:B"])
    shown = _edge(Around(g, "product:B"), "user", g.index("user:1"), "user:1")
    link = LinkFinder(g, "user:1").link("product:B")
    assert link is not None and shown == link.edges[0] == ("user:1", "carted", "product:B")
    assert STRONGEST_FIRST.index("carted") < STRONGEST_FIRST.index("rated")
