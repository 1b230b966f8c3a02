"""The hand-made shop of the evidence-path tests (test_evidence_paths.py, test_path_floor.py),
and the content-path reader of test_content_broader.py and test_described_like_paths.py."""

from __future__ import annotations

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths.reasons import evidence_paths
from recommend.paths.user_reasons import own_products

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


def content_paths(g: KnowledgeGraph, item: str, *, share: float = 0.5) -> list:
    """The candidate paths to ``item`` that content evidence (``share``, all from
    product:A) gives user:1."""
    ev = Evidence("content", share, ((g.index("product:A"), 1.0),))
    return [c for _, _, c in evidence_paths(g, "user:1", item, [ev],
                                            own_products(g, "user:1"), min_people=5)]
