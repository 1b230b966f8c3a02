"""The audience of a product: item-side columns, exclusions, privacy of paths and summary."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommend.hybrid.blend import Blend
from recommend.marketer.audience import (
    CATEGORY,
    audience_scores,
    find_audience,
    part_names,
    private_to_marketer,
)
from recommend.marketer.columns import TAKES, category_activity, item_columns
from recommend.paths.privacy import PERSONAL_RELATIONS, Privacy, demographic_ids
from recommend.recommender import Recommender

CATEGORY_WEIGHT = 0.3  # the fixture's (conftest)


@pytest.fixture(scope="module")
def rec(market_artifact):
    return Recommender.load(market_artifact)


def test_each_component_column_is_its_row_scores_transposed(rec) -> None:
    model = rec.model
    n = rec.graph.num_nodes("user")
    for name, comp in model.components.items():
        full = comp.scores(np.arange(n))
        for i in (0, 7, 63):
            np.testing.assert_allclose(comp.item_column(i, n), full[:, i],
                                       atol=1e-5, err_msg=name)


def test_audience_leaves_out_who_has_the_item_and_is_ranked(rec) -> None:
    item = rec.graph.nodes("product")[3]
    i = rec.graph.index(item)
    aud = rec.audience(item, 40, explain=False)
    have = set(rec.model.seen_[:, i].nonzero()[0].tolist())
    assert have and aud.candidates == rec.graph.num_nodes("user") - len(have)
    users = [rec.graph.index(m.user) for m in aud.members]
    assert len(users) == 40 and not have & set(users)
    scores = [m.score for m in aud.members]
    assert scores == sorted(scores, reverse=True)
    all_scores, _, cand, _ = audience_scores(rec.model, i)
    best = np.sort(all_scores[cand])[::-1][:40]
    np.testing.assert_allclose(scores, best)


def _taste_only(model):
    """``model`` with the audience's take rate off: the score is the taste's sum."""
    return dataclasses.replace(
        model, config=model.config.updated(audience={"activity_weight": 0.0}))


def test_a_linear_blend_scores_are_the_sum_of_weighted_parts(rec) -> None:
    names = rec.model.blend.names
    w = np.linspace(1.0, 2.0, len(names))
    model = dataclasses.replace(_taste_only(rec.model), blend=Blend(names, w, "coordinate"))
    scores, parts, cand, method = audience_scores(model, 5)
    assert "coordinate" in method and "weight 0.3" in method
    np.testing.assert_allclose(scores[cand], parts[cand].sum(axis=1))
    assert (parts[:, -1] == 0).all() and "take rate" not in method
    hybrid = parts[cand][:, :len(names)]
    assert (hybrid >= -1e-9).all()
    np.testing.assert_allclose(np.ptp(hybrid.sum(axis=1)), 1 - CATEGORY_WEIGHT)
    raw = item_columns(model, 5)[cand]
    spread = raw.max(axis=0) - raw.min(axis=0)
    top = int(np.argmax(hybrid[:, 0]))  # the parts keep the blend's proportions
    norm = (raw[top] - raw.min(axis=0)) / np.where(spread > 0, spread, 1)
    np.testing.assert_allclose(hybrid[top] / hybrid[top].sum(), norm * w / (norm * w).sum())


def test_category_activity_counts_takes_in_the_products_categories(rec) -> None:
    from kg.interactions import relation_matrix

    graph = rec.graph
    i = 5
    cats = set(graph.matrix("in_category", "category", "product")[i].indices.tolist())
    assert cats
    takes = relation_matrix(graph, TAKES).tocsr()
    col = category_activity(graph, i)
    inside = graph.matrix("in_category", "category", "product")
    for u in range(0, graph.num_nodes("user"), 17):
        own = takes[u].indices[takes[u].data > 0]
        want = sum(1 for j in own if cats & set(inside[j].indices.tolist()))
        assert col[u] == pytest.approx(np.log1p(want)), u
    assert col.max() > 0


def test_the_category_weight_moves_the_audience_from_the_hybrid_to_the_category(rec) -> None:
    i = 5
    model = _taste_only(rec.model)
    alone, parts0, cand, _ = audience_scores(model, i, category_weight=0.0)
    assert np.count_nonzero(parts0[cand][:, -2]) == 0  # the category part
    _, parts, _, _ = audience_scores(model, i)  # the hybrid's part, scaled by 1 - b
    np.testing.assert_allclose(alone[cand] * (1 - CATEGORY_WEIGHT),
                               parts[cand][:, :-2].sum(axis=1))
    only, _, _, _ = audience_scores(model, i, category_weight=1.0)
    col = category_activity(rec.graph, i)[cand]
    order = np.argsort(-only[cand], kind="stable")
    assert (np.diff(col[order]) <= 1e-12).all()  # by category activity alone
    with pytest.raises(ValueError, match="category_weight"):
        audience_scores(rec.model, i, category_weight=1.5)


def test_the_category_part_is_withheld_as_private_evidence(rec) -> None:
    item = rec.graph.nodes("product")[5]
    members = rec.audience(item, 30).members
    assert all(set(m.parts) == set(part_names(rec.model)) for m in members)
    with_part = [m for m in members if m.parts[CATEGORY] > 0]
    assert with_part
    assert all(any(w.startswith("category:") for w in m.withheld) for m in with_part)


def test_members_are_explained_without_showing_their_private_acts(rec) -> None:
    """With every component weighed, so the graph and social paths are there to withhold or
    show whatever the fixture's validation served (on this world: ALS alone)."""
    graph = rec.graph
    names = rec.model.blend.names
    model = dataclasses.replace(rec.model, blend=Blend(names, np.ones(len(names)), "coordinate"))
    privacy = Privacy.from_config(model.config)
    demographic = demographic_ids(graph)
    shown = 0
    for item in graph.nodes("product")[:6]:
        for m in find_audience(model, item, 30).members:
            assert m.paths or m.withheld, m.user
            for p in m.paths:
                shown += 1
                assert not private_to_marketer(graph, m.user, p.edges, privacy, demographic)
                assert all(not (rel in PERSONAL_RELATIONS and m.user in (a, b))
                           for a, rel, b in p.edges)
                assert not p.text.startswith("You")
    assert shown > 0


def test_a_path_showing_the_members_purchase_is_private() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:1"], ["product:A"])
    edges = [("user:1", "purchased", "product:A")]
    assert private_to_marketer(g, "user:1", edges, Privacy(), frozenset())
    assert not private_to_marketer(g, "user:1", [("user:1", "authored", "post:9")],
                                   Privacy(), frozenset())


def test_summary_shows_only_crowd_traits(rec) -> None:
    min_people = rec.model.config.privacy.min_people
    aud = rec.audience(rec.graph.nodes("product")[10], 60, explain=False)
    s = aud.summary
    assert s.size == 60 and s.sentences
    demographic = demographic_ids(rec.graph)
    for t in s.traits:
        assert min_people <= t.count <= 60 - min_people
        assert t.node not in demographic
        assert t.lift == pytest.approx(t.share / t.base)
    tiny = rec.audience(rec.graph.nodes("product")[10], 4, explain=False)
    assert tiny.summary.traits == [] and tiny.summary.spending is None


def test_audience_rejects_bad_requests(rec) -> None:
    with pytest.raises(KeyError, match="unknown item"):
        rec.audience("no-such-product", 5)
    with pytest.raises(ValueError, match="k must be"):
        rec.audience(rec.graph.nodes("product")[0], 0)


def test_a_user_who_takes_the_item_leaves_its_audience(market_artifact) -> None:
    from kg.records import Event

    rec = Recommender.load(market_artifact)
    item = rec.graph.nodes("product")[3]
    first = rec.audience(item, 5, explain=False).members[0].user
    ts = float(next(iter(rec.graph.edge_blocks("purchased"))).ts.max()) + 60
    result = rec.add([Event(first.partition(":")[2], item.partition(":")[2], "product",
                            "purchase", ts=ts)])
    assert result.accepted == 1
    after = rec.audience(item, 5, explain=False)
    assert first not in {m.user for m in after.members}
    assert after.candidates == rec.audience(item, 5).candidates


def test_a_gbdt_blend_is_weighed_by_its_trees_gain_shares(rec) -> None:
    from recommend.marketer.audience import gbdt_weights

    class Booster:
        def feature_importance(self, importance_type: str) -> np.ndarray:
            assert importance_type == "gain"
            c = len(names)
            gain = np.zeros(3 * c + 1)
            gain[0], gain[c + 1], gain[2 * c + 1], gain[-1] = 3.0, 1.0, 2.0, 50.0
            return gain

    names = rec.model.blend.names
    blend = Blend(names, np.zeros(len(names)), "gbdt", booster=Booster())
    w = gbdt_weights(blend)
    assert w[0] == pytest.approx(0.5) and w[1] == pytest.approx(0.5) and w[2:].sum() == 0
    model = dataclasses.replace(_taste_only(rec.model), blend=blend)
    scores, parts, cand, method = audience_scores(model, 5)
    assert "gain shares" in method
    np.testing.assert_allclose(scores[cand], parts[cand].sum(axis=1))
    assert np.count_nonzero(parts[cand][:, 2:len(names)]) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, -np.inf]), min_size=1, max_size=40),
       st.integers(1, 50), st.integers(0, 1000))
def test_top_users_is_a_full_sort_cut(values, n, seed) -> None:
    from recommend.marketer.audience import top_users

    scores = np.array(values)
    act = np.random.default_rng(seed).integers(0, 4, len(values)).astype(float)
    ok = np.flatnonzero(np.isfinite(scores))
    expected = ok[np.lexsort((ok, -act[ok], -scores[ok]))][:n]
    assert top_users(scores, n, act).tolist() == expected.tolist()
