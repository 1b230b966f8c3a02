"""The min-share floor of shown paths (recommend/paths/reasons.py), and paths two components
share, on the hand-made shop of tests/recommend/evidence_shop.py."""

from __future__ import annotations

import pytest

from recommend.hybrid.config import HybridConfig, PathsConfig
from recommend.hybrid.evidence import Evidence
from recommend.paths.connection import CONNECTION_NOTE
from recommend.paths.explain import scored_paths_many
from recommend.paths.select import Selection
from tests.recommend.evidence_shop import idx, shop


def floor_case(min_share: float, selection: Selection | None = None):
    g = shop()
    g.add_edges("similar", ["product:A"], ["product:B"])
    a = idx(g, "product:A")
    evidence = [[Evidence("cf", 0.5, ((a, 1.0),)), Evidence("content", 0.5, ((a, 0.01),))]]
    return scored_paths_many(g, "user:1", ["product:B"], [], max_paths=3,
                             selection=selection or Selection(0.0, 0.0, 0.0),
                             evidence=evidence, totals=[1.0], min_share=min_share)[0]


def test_the_floor_drops_paths_that_carry_almost_nothing() -> None:
    shown = floor_case(0.0)
    assert [(p.component, p.metapath) for p in shown] == [("cf", "cf>co_purchased"),
                                                          ("content", "content>similar")]
    assert [p.contribution for p in shown] == pytest.approx([0.5 / 0.505, 0.005 / 0.505])
    assert all(p.kind == "score" and p.text.startswith("You bought Item A") for p in shown)
    kept = floor_case(0.02)  # the content path carries 0.005 of a score of 1
    assert [(p.component, p.contribution) for p in kept] == [("cf", 1.0)]


@pytest.mark.parametrize("selection", [Selection(0.0, 0.0, 0.0), Selection()])
def test_an_item_whose_paths_all_carry_almost_nothing_shows_one_as_a_connection(
        selection: Selection) -> None:
    # neither path carries 60% of the score (under a selection, neither is made at first:
    # the item is made again in full for its largest path)
    [shown] = floor_case(0.6, selection)
    assert (shown.kind, shown.component, shown.contribution) == ("connection", None, 0.0)
    assert shown.nodes == ("user:1", "product:A", "product:B")  # the largest (cf's)
    assert shown.edges[1] == ("product:A", "co_purchased", "product:B")
    assert shown.text.endswith(CONNECTION_NOTE)


def shown_with_graph(parts: list[tuple[str, float]], graph_share: float) -> list:
    """The paths shown for user:1 -> B (totals 0.7, floor 0.02) when each ``(component,
    share)`` of ``parts`` has evidence from A and the graph's bought>co_purchased meta-path
    carries ``graph_share``."""
    from recommend.paths import GraphPathScorer, MetaPath, Step

    g = shop()
    a = idx(g, "product:A")
    bought = MetaPath("bought>co_purchased", (Step("purchased", "out", "product"),
                                               Step("co_purchased", min_people=5)))
    scorer = GraphPathScorer([bought]).prepare(g)
    evidence = [[Evidence(name, share, ((a, 1.0),)) for name, share in parts]]
    return scored_paths_many(g, "user:1", ["product:B"], [("graph", scorer, [graph_share], ())],
                             max_paths=3, selection=Selection(), evidence=evidence,
                             totals=[0.7], min_share=0.02)[0]


def test_a_path_two_components_found_is_shown_once_with_both_shares() -> None:
    shown = shown_with_graph([("cf", 0.3), ("content", 0.2)], 0.2)
    # cf (0.3) and the graph's meta-path (0.2) give the same "people who bought A also
    # bought B" path: one path carrying 0.5, under cf (the larger part); content's is another
    assert [(p.component, p.metapath) for p in shown] == [("cf", "cf>co_purchased"),
                                                          ("content", "content>same_brand")]
    assert [p.contribution for p in shown] == pytest.approx([0.5 / 0.7, 0.2 / 0.7])
    assert len({p.text for p in shown}) == 2


def test_paths_below_the_floor_alone_are_shown_when_together_they_reach_it() -> None:
    # floor 0.02 * 0.7 = 0.014: cf's path (0.011) and the graph's (0.01) are each below it,
    # the same path carrying both is above (under cf, which carries the more)
    shown = shown_with_graph([("cf", 0.011)], 0.01)
    assert [(p.kind, p.component, p.metapath, p.contribution) for p in shown] == [
        ("score", "cf", "cf>co_purchased", 1.0)]


def test_the_floor_is_a_checked_config_field() -> None:
    assert HybridConfig().paths.min_share == 0.01
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError, match=r"paths\.min_share"):
            HybridConfig(paths=PathsConfig(min_share=bad))
    assert HybridConfig.from_dict({"paths": {"min_share": 0.1}}).paths.min_share == 0.1
