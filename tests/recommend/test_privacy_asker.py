"""A count shown to a person reaches ``min_people`` without them: "5 people who bought A also
bought B" told to one of the five would show them what 4 others did (at ``min_people`` 2,
what one other person did)."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths import GraphPathScorer
from recommend.paths.privacy import violations


def world(others: int) -> KnowledgeGraph:
    """user:me and ``others`` people bought A and B; three more bought A only; me is in a
    segment with the ``others`` and two who did not buy B."""
    g = KnowledgeGraph()
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Item {p}")
    both = ["user:me", *(f"user:b{k}" for k in range(others))]
    g.add_edges("purchased", both + both + ["user:c0", "user:c1", "user:c2"],
                ["product:A"] * len(both) + ["product:B"] * len(both) + ["product:A"] * 3)
    g.add_node("segment:k1", name="cluster 1")
    g.add_edges("member_of", [*both, "user:c0", "user:c1"], ["segment:k1"] * (len(both) + 2))
    return g


@pytest.mark.parametrize("hop", [("product:A", "co_purchased", "product:B"),
                                 ("segment:k1", "members_bought", "product:B")])
def test_a_count_reaches_min_people_without_its_reader(hop) -> None:
    g = world(4)  # five people, the reader one of them: four others
    assert violations(g, "user:me", [hop])
    assert not violations(g, "user:c0", [hop])  # c0 is not counted: five others
    assert not violations(world(5), "user:me", [hop])  # five others besides me
    assert not violations(g, "user:me", [hop], min_people=4)


def test_an_explanation_of_a_product_one_took_counts_others_only() -> None:
    assert GraphPathScorer().prepare(world(4)).explain("user:me", "product:B") == []
    paths = GraphPathScorer().prepare(world(5)).explain("user:me", "product:B")
    assert {p.text for p in paths} == {
        "You bought Item A; 6 people who bought Item A also bought Item B",
        "You are one of cluster 1; 6 of them bought Item B"}


def test_a_popularity_count_leaves_its_reader_out() -> None:
    from recommend.hybrid.evidence import Evidence
    from recommend.paths.reasons import evidence_paths
    from recommend.paths.user_reasons import own_products
    from tests.recommend.evidence_shop import CROWD, shop

    def note(g: KnowledgeGraph) -> str:
        [(_, _, (*_, found))] = evidence_paths(g, "user:1", "product:Z",
                                               [Evidence("popularity", 0.2)],
                                               own_products(g, "user:1"), min_people=5)
        return found

    g = shop()
    g.add_edges("viewed", ["user:1", *CROWD[:4]], ["product:Z"] * 5)
    assert note(g) == ""  # five people, four of them others: no count
    g.add_edges("viewed", CROWD[4:5], ["product:Z"])
    assert note(g) == "; 6 people showed interest in it"


def small_segment(buyers: int) -> KnowledgeGraph:
    """user:me and 5 others in segment k1; ``buyers`` of the others (and 3 outsiders)
    bought B; me bought A."""
    g = KnowledgeGraph()
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Item {p}")
    others = [f"user:m{k}" for k in range(5)]
    g.add_node("segment:k1", name="cluster 1")
    g.add_edges("member_of", ["user:me", *others, "user:x"], ["segment:k1"] * 7)
    g.add_edges("purchased", ["user:me", *others[:buyers], "user:o0", "user:o1"],
                ["product:A"] + ["product:B"] * (buyers + 2))
    return g


def test_a_segment_count_never_covers_every_other_member() -> None:
    from recommend.paths.privacy import aggregate_matrix

    hop = ("segment:k1", "members_bought", "product:B")
    g = small_segment(5)  # k1: me, m0..m4, x; all but x bought B
    assert not violations(g, "user:me", [hop])
    g.add_edges("purchased", ["user:x"], ["product:B"])  # now every member but me did
    assert violations(g, "user:me", [hop])
    assert aggregate_matrix(g, "members_bought", min_people=5).nnz == 0  # nor scores
    assert aggregate_matrix(small_segment(5), "members_bought", min_people=5).nnz == 1
    assert GraphPathScorer().prepare(g).explain("user:me", "product:B") == []
