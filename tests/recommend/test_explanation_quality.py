"""Explanation quality metrics (LIR, SEP, ETD, validity, fidelity) on hand-made graphs."""

from __future__ import annotations

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.evaluate.explanations import etd, evaluate_explanations, path_lir, path_sep
from recommend.paths.quality import (
    _ranks_smoothed,
    act_times,
    entity_popularity,
    ewma,
    interaction_recency,
    normalised_ewma,
    shared_entity,
    times_at,
    user_interactions,
)
from recommend.results import ExplainedPath

# ewm(span=10) over positions 0, 1, 2 (a = 2/11): 0, 0.55, 1.1328904; normalised:
NORM3 = [0.0, 0.55 / 1.1328904, 1.0]


def test_ewma_matches_the_hand_computed_recurrence() -> None:
    # a = 0.5: 1; (0.5 + 2) / 1.5; (0.25 + 1 + 3) / 1.75
    assert ewma(np.array([1.0, 2.0, 3.0]), 3).tolist() == pytest.approx(
        [1.0, 2.5 / 1.5, 4.25 / 1.75])
    assert ewma(np.array([0.0, 1.0, 2.0]), 10).tolist() == pytest.approx(
        [0.0, 0.55, 1.1328904])
    with pytest.raises(ValueError, match="span"):
        ewma(np.ones(2), 0.5)


def test_ewma_agrees_with_pandas_when_installed() -> None:
    pd = pytest.importorskip("pandas")
    x = np.random.default_rng(0).normal(size=40)
    assert ewma(x, 10) == pytest.approx(pd.Series(x).ewm(span=10).mean().to_numpy())


def test_normalised_ewma_reads_ranks_and_shares_ties() -> None:
    assert normalised_ewma(np.array([30.0, 10.0, 20.0])).tolist() == pytest.approx(
        [1.0, 0.0, NORM3[1]])
    tied = normalised_ewma(np.array([5.0, 5.0, 9.0]))
    assert tied.tolist() == pytest.approx([NORM3[1] / 2, NORM3[1] / 2, 1.0])
    assert normalised_ewma(np.array([7.0])).tolist() == [1.0]
    assert normalised_ewma(np.array([])).tolist() == []


def made_afresh(keys: np.ndarray, span: float) -> np.ndarray:
    """normalised_ewma over rank positions, every step made here."""
    n = len(keys)
    order = np.argsort(keys, kind="stable")
    smooth = ewma(np.arange(n, dtype=np.float64), span)
    lo, hi = smooth.min(), smooth.max()
    norm = np.ones(n) if hi - lo <= 0 else (smooth - lo) / (hi - lo)
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    sizes = np.diff(np.r_[starts, n])
    out = np.empty(n)
    out[order] = (np.add.reduceat(norm, starts) / sizes)[np.repeat(np.arange(len(starts)),
                                                                   sizes)]
    return out


@pytest.mark.parametrize("span", [10.0, 3.0])
def test_normalised_ewma_over_ranks_is_the_same_asked_again(span) -> None:
    """The smoothed ranks of a length are made once: every list of that length, ties or
    none, reads the bits made afresh, and no caller can change them."""
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 40, 40, 41):
        keys = rng.integers(0, n // 2 + 1, n).astype(np.float64)  # with ties
        want = made_afresh(keys, span)
        got = normalised_ewma(keys, span=span)
        assert got.tobytes() == want.tobytes()
        got[:] = -1.0  # the caller's own array
        assert normalised_ewma(keys, span=span).tobytes() == want.tobytes()
    assert normalised_ewma(np.array([3.0, 1.0, 2.0]), span=span).tolist() == pytest.approx(
        made_afresh(np.array([3.0, 1.0, 2.0]), span).tolist())


def test_normalised_ewma_over_ranks_of_a_long_list_is_made_not_kept(monkeypatch) -> None:
    monkeypatch.setattr("recommend.paths.quality.MAX_CACHED_RANKS", 16)
    keys = np.random.default_rng(5).integers(0, 30, 60).astype(np.float64)
    before = _ranks_smoothed.cache_info().currsize
    assert normalised_ewma(keys).tobytes() == made_afresh(keys, 10.0).tobytes()
    assert _ranks_smoothed.cache_info().currsize == before  # a length of 60 is not kept


def shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "ABCD":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_node("user:1")
    g.add_edges("purchased", ["user:1"] * 3, ["product:A", "product:B", "product:A"],
                ts=[1.0, 30.0, 0.0])
    g.add_edges("viewed", ["user:1"], ["product:C"], ts=[2.0])
    g.add_edges("made_by", ["product:A", "product:B", "product:C", "product:D"],
                ["brand:x", "brand:y", "brand:z", "brand:z"])
    g.add_edges("in_category", ["product:D"], ["category:y"])
    return g


def test_lir_orders_the_users_interactions_by_time() -> None:
    g = shop()
    lir = interaction_recency(g, "user:1")
    # A's latest purchase (t=1), then C (t=2), then B (t=30): positions 0, 1, 2
    assert lir == pytest.approx({("purchased", "product:A"): 0.0,
                                 ("viewed", "product:C"): NORM3[1],
                                 ("purchased", "product:B"): 1.0})
    # hopwise: ewm(span=3) over the times 1, 2, 30 -> 1, 2.5 / 1.5, 31.25 / 1.75; normalised
    hop = interaction_recency(g, "user:1", variant="hopwise")
    assert hop[("viewed", "product:C")] == pytest.approx((2.5 / 1.5 - 1) / (31.25 / 1.75 - 1))
    assert interaction_recency(g, "user:unknown") == {}


def test_act_times_are_the_latest_of_each_act_as_user_interactions_has_them() -> None:
    g = shop()
    g.add_edges("purchased", ["user:1"], ["product:C"])  # untimed: not an act time
    times = user_interactions(g, "user:1")
    assert times == {("purchased", "product:A"): 1.0, ("purchased", "product:B"): 30.0,
                     ("viewed", "product:C"): 2.0}
    for rel in ("purchased", "viewed"):
        got = act_times(g, "user:1", rel, "product")
        want = np.full(g.num_nodes("product"), -np.inf)
        for (r, dst), t in times.items():
            if r == rel:
                want[g.index(dst)] = t
        assert np.array_equal(times_at(got, np.arange(g.num_nodes("product"))), want)
        assert np.all(np.diff(got[0]) > 0)  # sorted, distinct
    assert not len(act_times(g, "user:unknown", "purchased", "product")[0])
    assert np.isneginf(times_at(act_times(g, "user:unknown", "purchased", "product"),
                                np.arange(g.num_nodes("product")))).all()


def test_sep_ranks_entities_of_one_type_by_degree() -> None:
    g = shop()
    sep = entity_popularity(g, "brand")
    x, y, z = (g.index(f"brand:{b}") for b in "xyz")
    # degrees x 1, y 1, z 2: x and y tie on positions 0 and 1
    assert sep[[x, y, z]].tolist() == pytest.approx([NORM3[1] / 2, NORM3[1] / 2, 1.0])
    assert entity_popularity(g, "category").tolist() == [1.0]


def test_sep_is_kept_through_events_and_follows_the_relations_that_touch_the_type() -> None:
    g = shop()
    before = entity_popularity(g, "brand")
    assert entity_popularity(g, "brand") is before  # kept
    g.add_edges("viewed", ["user:1"], ["product:D"], ts=[40.0])  # no brand edge: kept
    assert entity_popularity(g, "brand") is before
    x = g.index("brand:x")
    g.add_edges("made_by", ["product:A", "product:B"], ["brand:x", "brand:x"])
    after = entity_popularity(g, "brand")
    assert after is not before and after[x] == 1.0  # x now has the most edges


def test_path_lir_and_sep_read_the_first_hop_and_the_shared_entity() -> None:
    g = shop()
    path = ExplainedPath(("user:1", "product:C", "brand:z", "product:D"),
                         (("user:1", "viewed", "product:C"), ("product:C", "made_by", "brand:z"),
                          ("product:D", "made_by", "brand:z")), "t", "graph", "viewed>brand")
    assert path_lir(interaction_recency(g, "user:1"), path) == pytest.approx(NORM3[1])
    assert path_sep(g, path) == pytest.approx(1.0)
    backwards = ExplainedPath(("user:1", "brand:z", "product:D"),
                              (("brand:z", "made_by", "user:1"),
                               ("product:D", "made_by", "brand:z")), "t")
    assert path_lir(interaction_recency(g, "user:1"), backwards) is None
    assert path_sep(g, ExplainedPath(("user:1", "product:A"),
                                     (("user:1", "purchased", "product:A"),), "t")) is None


def test_nothing_measured_reads_none_rather_than_zero(small_demo_artifact
                                                                      ) -> None:
    from recommend.evaluate.explanations import ExplanationQuality
    from recommend.recommender import Recommender

    rec = Recommender.load(small_demo_artifact)
    assert evaluate_explanations(rec, [], k=10) == ExplanationQuality(
        0, 0, 0, None, None, 0.0, None, 0.0, 0.0, 0.0, 0.0, 0, 0, 0.0, 0.0)


def test_etd_counts_distinct_types_over_the_smaller_of_k_and_the_catalogue() -> None:
    assert etd(["a", "a", "b", None], n_types=10, k=4) == pytest.approx(0.5)
    assert etd(["a", "b"], n_types=2, k=10) == pytest.approx(1.0)
    assert etd([None, None], n_types=3, k=2) == 0.0
    with pytest.raises(ValueError):
        etd(["a"], n_types=0, k=3)


def test_demo_explanations_measure_valid_and_faithful(small_demo_artifact) -> None:
    from recommend.recommender import Recommender

    rec = Recommender.load(small_demo_artifact)
    users = [u for u in rec.graph.nodes("user")][:12]
    lists = [(u, rec.recommend(u, 10)) for u in users]
    q = evaluate_explanations(rec, lists, k=10)
    assert q.users == 12 and q.items == sum(len(r) for _, r in lists) > 0
    assert q.invalid_paths == 0 and 0.5 < q.with_valid_path <= 1.0
    assert q.with_score_path <= q.with_valid_path and q.paths >= q.items * q.with_valid_path
    assert q.fidelity_checked > 0 and q.fidelity == 1.0
    # every component explains its part: cf paths are shown whatever the served cf (item-kNN
    # and EASE split over the user's history, ALS too: recommend/hybrid/factor_evidence.py),
    # content paths too, and popularity paths wherever the blend weighs popularity up (a
    # negative weight carries no share)
    blend = rec.model.blend
    lifted = {n for n, w in zip(blend.names, blend.weights, strict=True) if w > 0}
    assert "content" in q.by_component and "cf" in q.by_component
    assert ("popularity" in q.by_component) <= ("popularity" in lifted)
    assert sum(q.by_component.values()) == q.paths
    assert q.fidelity_not_applicable == q.by_component.get("popularity", 0)
    assert q.no_path == round(q.items * (1 - q.with_valid_path))
    assert all(r.paths or "no path we may show links you" in (r.reason or "")
               for _, recs in lists for r in recs)
    assert 0.0 <= q.sep <= 1.0 and 0.0 < q.lir <= 1.0 and 0 < q.lir_paths <= 1.0
    # most paths 2-3 hops; a climb to a shared broader category is 4-8 on the demo's tree
    assert 0.0 < q.etd <= 1.0 and 2.0 <= q.mean_length <= 4.0


def test_the_shared_entity_is_where_the_item_side_of_the_path_meets_it() -> None:
    u, a, b = "user:1", "product:A", "product:B"
    assert shared_entity((u, a, b), ((u, "purchased", a), (a, "co_purchased", b))) == a
    assert shared_entity((u, a, b), ((u, "purchased", a), (b, "also_bought", a))) == a
    assert shared_entity((u, a, "brand:x", b), ((u, "purchased", a), (a, "made_by", "brand:x"),
                                                (b, "made_by", "brand:x"))) == "brand:x"
    into = (u, "category:all", "category:rare", b)  # You are into all; rare is a kind of all
    assert shared_entity(into, ((u, "interested_in", "category:all"),
                                ("category:rare", "broader", "category:all"),
                                (b, "in_category", "category:rare"))) == "category:all"
    assert shared_entity((u, b), ((u, "purchased", b),)) is None
