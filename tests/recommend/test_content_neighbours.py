"""Content-neighbour edges at build (recommend.content.neighbours): the search, the record,
and that only the catalogue's texts make them (no event, no held-out pair)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.described_like import RELATION
from kg.graph import KnowledgeGraph
from recommend.content.index import ContentIndex
from recommend.content.neighbours import content_neighbours, link_described_like
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.content_component import ContentComponent
from recommend.hybrid.encoders import LsaEncoder
from tests.recommend.shops import two_group_shop


def four() -> tuple[KnowledgeGraph, ContentIndex]:
    g = KnowledgeGraph()
    g.add_edges("made_by", [f"product:{p}" for p in "abcd"], ["brand:x"] * 4)
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]])
    # indexed in another order than the graph's: edges name graph indices
    return g, ContentIndex.build(["product:d", "product:c", "product:b", "product:a"],
                                 vectors[::-1])


def edges(g: KnowledgeGraph, pairs) -> list[tuple[str, str, float]]:
    return [(g.node_id("product", s), g.node_id("product", d), round(float(w), 2))
            for s, d, w in zip(pairs.src, pairs.dst, pairs.similarity, strict=True)]


def test_each_product_gets_its_k_nearest_others_best_first_above_the_floor() -> None:
    g, idx = four()
    found = edges(g, content_neighbours(idx, g, k=2, floor=0.5))
    assert sorted(found) == [("product:a", "product:b", 0.8), ("product:a", "product:c", 0.6),
                             ("product:b", "product:a", 0.8), ("product:b", "product:c", 0.96),
                             ("product:c", "product:b", 0.96), ("product:c", "product:d", 0.8),
                             ("product:d", "product:b", 0.6), ("product:d", "product:c", 0.8)]
    by_source = [s for s, _, _ in found]
    assert all(by_source.count(s) == 2 for s in set(by_source))
    high = edges(g, content_neighbours(idx, g, k=3, floor=0.9))
    assert sorted(high) == [("product:b", "product:c", 0.96), ("product:c", "product:b", 0.96)]


def test_an_indexed_product_the_graph_lacks_is_named() -> None:
    g, _ = four()
    idx = ContentIndex.build(["product:a", "product:z"], np.eye(2))
    with pytest.raises(ValueError, match="product:z"):
        content_neighbours(idx, g, k=1, floor=0.0)


def neighbour_edges(graph: KnowledgeGraph) -> set[tuple[str, str, float]]:
    out = set()
    for c in graph.edge_blocks(RELATION):
        for s, d, w in zip(c.src, c.dst, c.weight, strict=True):
            out.add((graph.node_id("product", int(s)), graph.node_id("product", int(d)),
                     round(float(w), 5)))
    return out


def linked(graph: KnowledgeGraph) -> dict:
    content = ContentComponent.fit(graph, LsaEncoder(dim=8), half_life_days=None)
    return link_described_like(content, [graph], HybridConfig().content)


def test_the_edges_do_not_depend_on_events() -> None:
    """The same catalogue with other buyers, or with none, gets the very same edges."""
    graphs = [two_group_shop(40, 8, described=True, seed=0),
              two_group_shop(60, 3, described=True, seed=5),
              two_group_shop(0, 0, described=True)]
    records = [linked(g) for g in graphs]
    assert records[0]["edges"] > 0 and records[0]["k"] == HybridConfig().content.neighbours
    found = [neighbour_edges(g) for g in graphs]
    assert found[0] == found[1] == found[2]
    assert all(s != d for s, d, _ in found[0])


def test_a_graph_that_has_them_keeps_them_and_zero_turns_them_off() -> None:
    g = two_group_shop(20, 4, described=True)
    first = linked(g)
    again = linked(g)  # (an evaluation's graph read from a built artifact)
    assert again == {"edges": first["edges"], "note": "in the graph already: kept"}
    assert g.num_edges(RELATION) == first["edges"]
    other = two_group_shop(20, 4, described=True)
    content = ContentComponent.fit(other, LsaEncoder(dim=8), half_life_days=None)
    off = HybridConfig().updated(content={"neighbours": 0}).content
    assert link_described_like(content, [other], off) == {"edges": 0, "note": "off"}
    assert other.num_edges(RELATION) == 0


@pytest.mark.parametrize("field,value", [("neighbours", -1), ("neighbours", 101),
                                         ("neighbours", 2.5), ("neighbour_floor", 1.5),
                                         ("neighbour_floor", -0.1)])
def test_the_settings_are_bounded(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"content.{field}"):
        HybridConfig().updated(content={field: value})


def test_the_fit_stores_them_in_the_graph_and_every_validation_copy(monkeypatch) -> None:
    """Added before the path components are fitted: the validation graphs, which lack the
    held-out pairs, hold exactly the served graph's edges."""
    import recommend.hybrid.fit as fit

    graph = two_group_shop(60, 8, described=True)
    copies: list[KnowledgeGraph] = []
    split = fit.holdout_split

    def holdout_split(*args, **kwargs):
        result = split(*args, **kwargs)
        copies.append(result.train_graph)
        return result

    monkeypatch.setattr(fit, "holdout_split", holdout_split)
    config = HybridConfig(components=("cf", "content", "graph", "popularity"))
    model = fit.fit_hybrid(graph, config.updated(paths={"described_like": True}),
                           encoder=LsaEncoder(dim=8))
    record = model.info["described_like"]
    assert record["edges"] == graph.num_edges(RELATION) > 0
    assert copies and all(neighbour_edges(c) == neighbour_edges(graph) for c in copies)
    assert copies[0].num_edges("purchased") < graph.num_edges("purchased")
    names = [mp.name for mp in model.components["graph"].scorer.metapaths_]
    assert "bought>described_like" in names  # the graph component was fitted over them
    served = fit.fit_hybrid(two_group_shop(60, 8, described=True), config,
                            encoder=LsaEncoder(dim=8))
    assert served.info["described_like"]["edges"] == record["edges"]
    assert not [mp for mp in served.components["graph"].scorer.metapaths_
                if "described_like" in mp.relations]  # by default: explanations only
