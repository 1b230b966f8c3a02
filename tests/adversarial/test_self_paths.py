"""No explanation walks through the product it explains: "people who bought X also bought X"
(a co-purchase count's diagonal, met when the user already has X: `explain` of an owned
product, `recommend --include-seen`) says nothing and reads wrong."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.paths import MetaPath, Step, explain_paths_many

BOUGHT_ALSO = MetaPath("bought>also_bought",
                       (Step("purchased", "out", "product"), Step("also_bought")))
BOUGHT_SAME_BRAND = MetaPath("bought>same_brand", (Step("purchased", "out", "product"),
                                                   Step("made_by", "out", "brand"),
                                                   Step("made_by", "in", "product")))


def _shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Mug {p}")
    g.add_node("user:1", name="Ann")
    g.add_node("brand:oak", name="Oak")
    g.add_edges("purchased", ["user:1", "user:1"], ["product:A", "product:B"])
    g.add_edges("also_bought", ["product:A", "product:B"], ["product:A", "product:A"])
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:oak", "brand:oak"])
    return g


def test_no_path_of_an_owned_product_passes_through_it() -> None:
    g = _shop()
    for mp in (BOUGHT_ALSO, BOUGHT_SAME_BRAND):
        paths = explain_paths_many(g, "user:1", ["product:A"], [mp], [1.0], fallback=False)[0]
        assert paths, mp.name  # the path through B is still shown
        assert all(p.nodes.count("product:A") == 1 for p in paths), [p.text for p in paths]


def test_a_relation_from_a_product_to_itself_is_rejected() -> None:
    import pytest

    from kg.parse import RecordError
    from kg.relations import parse_relation
    from kg.timewindow import TimeWindow

    with pytest.raises(RecordError, match=r'"src" and "dst" are the same node "product:A"'):
        parse_relation({"relation": "also_bought", "src": "product:A", "dst": "product:A"},
                       TimeWindow.until())
    assert parse_relation({"relation": "also_bought", "src": "product:A", "dst": "product:B"},
                          TimeWindow.until())[:3] == ("also_bought", "product:A", "product:B")


def test_no_cf_or_session_path_of_an_owned_product_passes_through_it() -> None:
    """cf's evidence of an item the user has holds the item itself (its own row in the
    user's history): "6 people who bought Mug A also bought Mug A" is not said; the next
    product of the evidence takes the slot."""
    from recommend.hybrid.evidence import Evidence
    from recommend.paths.reasons import evidence_paths

    g = _shop()
    people = [f"user:{k}" for k in range(2, 9)]
    g.add_edges("purchased", people * 2, ["product:A"] * 7 + ["product:B"] * 7)
    a, b = g.index("product:A"), g.index("product:B")
    own = {a: "purchased", b: "purchased"}
    for component in ("cf", "session"):
        ev = Evidence(component, 1.0, ((a, 0.7), (b, 0.3)))
        found = evidence_paths(g, "user:1", "product:A", [ev], own, min_people=5)
        assert all(c[2].count("product:A") == 1 for _, _, c in found), found
    found = evidence_paths(g, "user:1", "product:A", [Evidence("cf", 1.0, ((a, 0.7), (b, 0.3)))],
                           own, min_people=5)
    assert [c[2] for _, _, c in found] == [("user:1", "product:B", "product:A")]


def test_a_group_led_by_the_item_itself_shows_its_other_member() -> None:
    """The user bought Mug A last and Mug B before, both by Oak: the group "products by Oak"
    of Mug A (the user has it) is led by A itself ("Oak makes Mug A and Mug A"); its other
    member B takes the lead, so the group is still shown, not dropped whole."""
    g = KnowledgeGraph()
    for p in "ABC":
        g.add_node(f"product:{p}", title=f"Mug {p}")
    g.add_node("user:1", name="Ann")
    g.add_node("brand:oak", name="Oak")
    g.add_edges("purchased", ["user:1", "user:1"], ["product:B", "product:A"],
                ts=[1_600_000_000.0, 1_700_000_000.0])
    g.add_edges("made_by", ["product:A", "product:B", "product:C"], ["brand:oak"] * 3)
    for group in (False, True):
        paths = explain_paths_many(g, "user:1", ["product:A"], [BOUGHT_SAME_BRAND], [1.0],
                                   fallback=False, group=group)[0]
        assert [p.nodes for p in paths] == [("user:1", "product:B", "brand:oak", "product:A")]
        assert paths[0].text.startswith("You bought Mug B"), paths[0].text
