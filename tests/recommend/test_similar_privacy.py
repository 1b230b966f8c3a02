"""``similar``'s co-interaction score counts only what at least ``min_people`` people did:
a product one other person took with the query must not rank beside it (the "people who
bought this also bought" leak of a rare product)."""

from __future__ import annotations

from types import SimpleNamespace

from kg.graph import KnowledgeGraph
from kg.interactions import seen_matrix
from recommend.hybrid.config import HybridConfig, PrivacyConfig
from recommend.similar import similar_items


def model(n_crowd: int, min_people: int = 5) -> SimpleNamespace:
    """Query Q; the victim alone took Q and X; ``n_crowd`` others took Q and Y."""
    g = KnowledgeGraph()
    for p in ("Q", "X", "Y", "Z"):
        g.add_node(f"product:{p}", title=f"Item {p}")
    crowd = [f"user:c{k}" for k in range(n_crowd)]
    g.add_edges("purchased", ["user:victim", "user:victim", *crowd, *crowd],
                ["product:Q", "product:X"] + ["product:Q"] * n_crowd + ["product:Y"] * n_crowd)
    g.add_edges("viewed", ["user:other"] * 2, ["product:Z", "product:X"])
    return SimpleNamespace(graph=g, components={}, seen_=seen_matrix(g).tocsr(),
                           config=HybridConfig(privacy=PrivacyConfig(min_people=min_people)))


def similar(m: SimpleNamespace, query: str) -> dict[str, float]:
    """The similar products (k = 3) and their co-interaction parts."""
    return {r.item: r.parts.get("cf", 0.0) for r in similar_items(m, query, 3, explain=False)}


def test_one_other_persons_product_is_not_ranked_like_the_query() -> None:
    # the victim alone took Q and X: X is not listed as like Q (it was, first), nor Q as like X
    assert "product:X" not in similar(model(0), "product:Q")
    assert "product:Q" not in similar(model(0), "product:X")
    assert similar(model(4), "product:Q") == {}  # four people: nobody counts yet
    found = similar(model(5), "product:Q")
    assert set(found) == {"product:Y"}  # five took Q and Y


def test_the_threshold_is_privacy_min_people() -> None:
    assert "product:X" in similar(model(0, min_people=1), "product:Q")
    assert "product:Y" in similar(model(4, min_people=4), "product:Q")
