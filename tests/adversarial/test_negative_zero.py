"""A score or part that rounds to zero is printed 0.0 / 0.000, never -0.0 / -0.000 (a
component whose normalised part is a hair below zero)."""

from __future__ import annotations

import json
from types import SimpleNamespace

from kg.graph import KnowledgeGraph
from recommend.results import ExplainedPath, Recommendation

TINY = -3e-9


def test_json_holds_no_negative_zero() -> None:
    path = ExplainedPath(("user:1", "product:A"), (("user:1", "purchased", "product:A"),),
                         "You bought A", contribution=TINY)
    rec = Recommendation("product:B", TINY, {"cf": TINY, "content": 0.5}, [path])
    text = json.dumps(rec.to_json())
    assert "-0.0" not in text
    assert rec.to_json()["parts"] == {"cf": 0.0, "content": 0.5}


def test_the_html_report_holds_no_negative_zero() -> None:
    from recommend.report import recommendations_page

    g = KnowledgeGraph()
    g.add_node("user:1", name="Ann")
    g.add_node("product:B", title="Mug")
    rec = SimpleNamespace(graph=g, user_id=lambda u: u, influencers=lambda: frozenset())
    page = recommendations_page(rec, {"user:1": [Recommendation("product:B", -4e-4,
                                                                {"cf": -6e-4, "x": 1.0})]},
                                pictures=False)
    assert "-0.000" not in page and "score 0.000" in page and "-0.001" in page
