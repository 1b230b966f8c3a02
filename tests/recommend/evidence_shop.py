"""The hand-made shop of the evidence-path tests (test_evidence_paths.py, test_path_floor.py)."""

from __future__ import annotations

from kg.graph import KnowledgeGraph

CROWD = [f"user:c{k}" for k in range(6)]


def shop(crowd: int = 5) -> KnowledgeGraph:
    """user:1 bought A (last) and viewed V; ``crowd`` people bought A and B; A, B and V share
    the broad category "all"; A and B the brand "niche"; C is alone in "rare"."""
    g = KnowledgeGraph()
    for p in "ABCVZ":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("purchased", ["user:1"], ["product:A"], ts=[10.0])
    g.add_edges("viewed", ["user:1"], ["product:V"], ts=[5.0])
    people = CROWD[:crowd]
    g.add_edges("purchased", people * 2, ["product:A"] * crowd + ["product:B"] * crowd)
    g.add_edges("in_category", ["product:A", "product:B", "product:V", "product:Z",
                                "product:C"],
                ["category:all", "category:all", "category:all", "category:all",
                 "category:rare"])
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:niche", "brand:niche"])
    return g


def idx(g: KnowledgeGraph, node: str) -> int:
    return g.index(node)
