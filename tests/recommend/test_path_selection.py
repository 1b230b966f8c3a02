"""Path selection: among an item's score-carrying paths, recent, specific and varied first."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths.explain import Path
from recommend.paths.select import Selection, select_paths


def shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "ABCDX":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_node("user:1")
    g.add_edges("purchased", ["user:1"] * 3, ["product:A", "product:B", "product:C"],
                ts=[1.0, 2.0, 3.0])
    # brand:niche makes one product, brand:big four
    g.add_edges("made_by", ["product:A", "product:B", "product:C", "product:D", "product:X"],
                ["brand:big", "brand:big", "brand:big", "brand:niche", "brand:big"])
    return g


def path(first: str, metapath: str, shared: str | None = None) -> Path:
    """user:1 bought ``first`` (then ``shared``), ending at product:X."""
    if shared is None:
        return Path(("user:1", first, "product:X"),
                    (("user:1", "purchased", first), (first, "co_purchased", "product:X")),
                    metapath, 0.0, "")
    return Path(("user:1", first, shared, "product:X"),
                (("user:1", "purchased", first), (first, "made_by", shared),
                 ("product:X", "made_by", shared)), metapath, 0.0, "")


def chosen(out: list[list[tuple[float, str, Path]]]) -> list[list[tuple[str, str]]]:
    return [[(p.metapath or "", p.nodes[1]) for _, _, p in item] for item in out]


OFF = Selection(0.0, 0.0, 0.0)


def test_all_weights_zero_keeps_the_largest_shares() -> None:
    cands = [[(0.5, "graph", path("product:A", "bought>co")),
              (0.3, "graph", path("product:C", "bought>co")),
              (0.2, "graph", path("product:B", "bought>brand", "brand:big")),
              (0.0, "graph", path("product:C", "bought>brand", "brand:big"))]]
    out = select_paths(shop(), "user:1", cands, 3, OFF)
    assert [s for s, _, _ in out[0]] == [0.5, 0.3, 0.2]
    assert not OFF.active and Selection().active


def test_no_path_without_a_share_is_ever_shown() -> None:
    cands = [[(0.0, "graph", path("product:C", "bought>co"))], []]
    assert select_paths(shop(), "user:1", cands, 3, Selection(5.0, 5.0, 5.0)) == [[], []]


def test_recency_prefers_the_latest_linking_purchase() -> None:
    cands = [[(0.5, "graph", path("product:A", "bought>co")),
              (0.45, "graph", path("product:C", "bought>co"))]]
    assert chosen(select_paths(shop(), "user:1", cands, 1, OFF)) == [[("bought>co", "product:A")]]
    recent = Selection(recency=1.0, specificity=0.0, diversity=0.0)
    # A: 1 + 0 (oldest); C: 0.9 + 1 (latest)
    assert chosen(select_paths(shop(), "user:1", cands, 1, recent)) == [
        [("bought>co", "product:C")]]


def test_specificity_prefers_a_niche_shared_entity() -> None:
    cands = [[(0.5, "graph", path("product:A", "bought>brand", "brand:big")),
              (0.4, "graph", path("product:B", "bought>brand", "brand:niche"))]]
    niche = Selection(recency=0.0, specificity=1.0, diversity=0.0)
    out = chosen(select_paths(shop(), "user:1", cands, 2, niche))
    assert out == [[("bought>brand", "product:B"), ("bought>brand", "product:A")]]


def test_diversity_varies_types_within_an_item_and_across_the_list() -> None:
    a = (0.5, "graph", path("product:A", "bought>co"))
    b = (0.4, "graph", path("product:B", "bought>co"))
    c = (0.1, "graph", path("product:C", "bought>brand", "brand:big"))
    varied = Selection(recency=0.0, specificity=0.0, diversity=1.0)
    out = chosen(select_paths(shop(), "user:1", [[a, b, c], [a, c]], 2, varied))
    # item 1: A first (1 + 1), then the other type (0.2 + 1) beats B (0.8 + 0)
    assert out[0] == [("bought>co", "product:A"), ("bought>brand", "product:C")]
    # both types listed (1 against 0.2), but "bought>brand" heads no item: the headline pass
    # swaps it in (loss 0.8 < 1), in the lower-ranked of the two equal swaps
    assert out[1] == [("bought>brand", "product:C"), ("bought>co", "product:A")]
    out = chosen(select_paths(shop(), "user:1", [[a], [b, c]], 1, Selection(0, 0, 2.0)))
    assert out == [[("bought>co", "product:A")], [("bought>brand", "product:C")]]


def test_headlines_vary_across_the_list_within_the_diversity_budget() -> None:
    a = (0.5, "graph", path("product:A", "bought>co"))
    b = (0.45, "graph", path("product:B", "bought>co"))
    c = (0.2, "cf", path("product:C", "bought>brand", "brand:big"))
    weak = (0.1, "cf", path("product:C", "bought>brand", "brand:big"))
    varied = Selection(recency=0.0, specificity=0.0, diversity=1.0)
    # one path per item: the greedy pass heads both items with "bought>co" (item 2: B
    # 1 + 0.5 against C 0.44 + 1); item 2's own "bought>brand" path (loss 0.56 < 1) becomes
    # its headline, replacing the co path (the item is full)
    out = chosen(select_paths(shop(), "user:1", [[a], [b, c]], 1, varied))
    assert out == [[("bought>co", "product:A")], [("bought>brand", "product:C")]]
    # a loss of 0.8 is over a budget of 0.5: no swap
    out = chosen(select_paths(shop(), "user:1", [[a], [b, weak]], 2, Selection(0, 0, 0.5)))
    assert [item[0][0] for item in out] == ["bought>co", "bought>co"]
    # neither the top item nor the list's only headline of a type is swapped away
    other = (0.45, "cf", path("product:B", "bought>other"))
    brand = (0.5, "cf", path("product:C", "bought>brand", "brand:big"))
    out = chosen(select_paths(shop(), "user:1", [[a, c], [brand, other]], 1, varied))
    assert out == [[("bought>co", "product:A")], [("bought>brand", "product:C")]]
    # no diversity weight: largest first, no headline pass
    out = chosen(select_paths(shop(), "user:1", [[a], [b, c]], 1, Selection(0, 0, 0)))
    assert out == [[("bought>co", "product:A")], [("bought>co", "product:B")]]


def test_bad_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="recency"):
        Selection(recency=-1.0)
    with pytest.raises(ValueError, match=r"paths\.diversity_weight"):
        from recommend.hybrid.config import HybridConfig, PathsConfig

        HybridConfig(paths=PathsConfig(diversity_weight=float("nan")))
    with pytest.raises(ValueError, match=r"paths\.pool"):
        HybridConfig(paths=PathsConfig(pool=0))


def test_selection_changes_no_ranking_and_shows_only_score_carrying_paths(
        small_demo_artifact) -> None:
    from recommend.recommender import Recommender

    rec = Recommender.load(small_demo_artifact)
    users = rec.graph.nodes("user")[:15]
    on = {u: rec.recommend(u, 10) for u in users}
    config = rec.model.config
    rec.model.config = config.updated(paths={"recency_weight": 0.0, "specificity_weight": 0.0,
                                             "diversity_weight": 0.0})
    off = {u: rec.recommend(u, 10) for u in users}
    every = {u: [rec.explain_item(u, r.item, max_paths=50).paths for r in off[u]]
             for u in users}
    rec.model.config = config
    changed = 0
    for u in users:
        assert [(r.item, r.score, r.parts) for r in on[u]] == [
            (r.item, r.score, r.parts) for r in off[u]]
        for r_on, r_off, all_paths in zip(on[u], off[u], every[u], strict=True):
            assert len(r_on.paths) == len(r_off.paths) <= 3
            pool = {(p.nodes, p.metapath) for p in all_paths}
            for p in r_on.paths:
                assert p.kind == "connection" or (p.contribution > 0
                                                  and (p.nodes, p.metapath) in pool)
            changed += [p.nodes for p in r_on.paths] != [p.nodes for p in r_off.paths]
    assert changed > 0


def test_a_path_reading_like_one_chosen_is_passed_over_for_the_next() -> None:
    a = (0.5, "cf", path("product:A", "cf>co"))
    twin = (0.4, "graph", path("product:A", "bought>rule"))  # the same sentence, another type
    c = (0.1, "graph", path("product:C", "bought>co"))
    said = {id(a[2]): "A", id(twin[2]): "A", id(c[2]): "C"}
    varied = Selection(recency=0.0, specificity=0.0, diversity=1.0)
    # without sentences the twin's new type wins the second slot
    assert chosen(select_paths(shop(), "user:1", [[a, twin, c]], 2, varied)) == [
        [("cf>co", "product:A"), ("bought>rule", "product:A")]]
    out = select_paths(shop(), "user:1", [[a, twin, c]], 2, varied,
                       said=lambda cand: said[id(cand[2])])
    assert chosen(out) == [[("cf>co", "product:A"), ("bought>co", "product:C")]]
    # nothing else to show: one path, not two reading the same
    out = select_paths(shop(), "user:1", [[a, twin]], 3, varied,
                       said=lambda cand: said[id(cand[2])])
    assert chosen(out) == [[("cf>co", "product:A")]]


def test_no_headline_swap_brings_in_a_sentence_its_item_shows() -> None:
    a = (0.5, "graph", path("product:A", "bought>co"))
    b = (0.45, "graph", path("product:B", "bought>co"))
    twin = (0.2, "cf", path("product:B", "cf>co"))  # reads like b
    c = (0.1, "cf", path("product:C", "bought>brand", "brand:big"))
    said = {id(a[2]): "A", id(b[2]): "B", id(twin[2]): "B", id(c[2]): "C"}
    varied = Selection(recency=0.0, specificity=0.0, diversity=1.0)
    # item 2 keeps B; the swap would head it with the twin (loss 0.56 < 1), reading like B
    plain = chosen(select_paths(shop(), "user:1", [[a], [b, twin, c]], 2, varied))
    assert plain[1][0] == ("cf>co", "product:B")
    out = select_paths(shop(), "user:1", [[a], [b, twin, c]], 2, varied,
                       said=lambda cand: said[id(cand[2])])
    assert chosen(out)[1] == [("bought>brand", "product:C"), ("bought>co", "product:B")]
