"""cf served as weighted ALS explained by the user's own products (recommend.hybrid.
factor_evidence): an aggregate path per carrying product, faithful, its terms the score's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kg.records import Event, User
from recommend import Recommender
from recommend.hybrid.audit import path_is_valid
from recommend.hybrid.components import CfComponent
from recommend.hybrid.evidence import component_evidence, path_fidelity
from recommend.hybrid.factor_evidence import factor_fidelity, factor_terms, splits_itself
from recommend.paths.privacy import LINK_AGGREGATES, people
from recommend.paths.user_reasons import own_products


@pytest.fixture
def rec(small_demo_artifact: Path) -> Recommender:
    """The small demo's recommender with ALS as its cf (refitted at the config's settings
    unless the build chose ALS already)."""
    rec = Recommender.load(small_demo_artifact)
    model = rec.model
    if type(model.components["cf"].model).__name__ != "WeightedALS":
        model.components["cf"] = CfComponent.fit(
            rec.graph, kind="als", params=model.config.cf_params(),
            targets=model.config.split.target_relations)
    assert splits_itself(model.components["cf"])
    return rec


def test_als_served_cf_items_carry_a_faithful_aggregate_path(rec: Recommender) -> None:
    graph, min_people = rec.graph, rec.model.config.privacy.min_people
    cf_items = with_path = 0
    for user in graph.nodes("user")[:30]:
        own = own_products(graph, user)
        for r in rec.recommend(user, 10):
            if r.parts.get("cf", 0.0) <= 0:
                continue
            cf_items += 1
            paths = [p for p in r.paths if p.component == "cf"]
            with_path += bool(paths)
            for p in paths:
                (you, a, item), (first, middle) = p.nodes, p.edges
                assert (you, item) == (user, r.item) and first == (user, own[graph.index(a)], a)
                # the middle step: people who did both, counted (never a person), or a
                # stored product -> product link
                assert middle[1] in (*LINK_AGGREGATES, "also_bought", "bought_together",
                                     "also_viewed", "co_bought")
                if middle[1] in LINK_AGGREGATES:
                    n = people(graph, middle)
                    assert n >= min_people and f"; {n} people who " in p.text
                assert path_is_valid(graph, p)
                assert path_fidelity(rec.model, graph, user, r.item, p) is True
    # (most items' cf part is a share of every item's score; a product joins the item only
    # where enough people did both: 49% of 510 such items over 60 users, 57% with EASE's
    # evidence swapped in)
    assert cf_items > 50 and with_path > 0.3 * cf_items


def test_the_terms_sum_to_the_served_cf_score(rec: Recommender) -> None:
    """A fitted user's terms split the fold-in of their training row: within 1% of the served
    score (their factors solved that system one sweep earlier, approximately)."""
    comp, graph = rec.model.components["cf"], rec.graph
    users = np.arange(min(40, comp.model.train_.n_users))
    served = comp.scores(users)
    for u in users.tolist():
        items = np.argsort(-served[u])[:10]
        found = factor_terms(comp, u, items)
        if found is None:
            continue
        products, terms, scores = found
        assert set(products.tolist()) <= set(own_products(graph, graph.node_id("user", u)))
        kept = terms != 0  # all but a product whose removal would raise the score
        assert kept.any(axis=1).mean() > 0.9
        np.testing.assert_allclose(scores, served[u, items], rtol=0.01)


def test_a_user_added_after_fitting_splits_the_score_they_are_served(rec: Recommender) -> None:
    """A newcomer's ALS score is their current history folded in: the terms sum to it
    exactly, and a carrying product's fidelity is the fold-in without it."""
    products = [p.partition(":")[2] for p in rec.graph.nodes("product")[:6]]
    now = time.time() - 3600.0
    rec.add([User("als-newcomer"),
             *[Event("als-newcomer", p, "product", "purchase", ts=now + k)
               for k, p in enumerate(products)]])
    comp, graph = rec.model.components["cf"], rec.graph
    u = graph.index("user:als-newcomer")
    assert u >= comp.model.train_.n_users
    served = comp.scores(np.array([u]))[0]
    bought = [graph.index(f"product:{p}") for p in products]
    items = np.array([i for i in np.argsort(-served).tolist() if i not in bought][:8])
    found = factor_terms(comp, u, items)
    assert found is not None
    mine, _, scores = found
    np.testing.assert_allclose(scores, served[items], rtol=1e-9)
    [evidence] = component_evidence(rec.model, u, items[:1], [{"cf": 1.0}])
    [cf] = evidence
    a, fraction = cf.links[0]
    assert a in mine and set(mine.tolist()) == set(bought) and 0 < fraction <= 1
    before, after = factor_fidelity(comp, u, int(items[0]), a)
    assert before == pytest.approx(served[items[0]]) and after < before
    assert factor_fidelity(comp, u, int(items[0]), int(items[1])) is None  # not in the history


def test_co_acting_bounds_every_co_interaction_count(rec: Recommender) -> None:
    """The filter cf paths count through (recommend.paths.co_people): no kind's count of a
    pair exceeds the people who acted on both, nor those who acted on either end."""
    from recommend.paths.co_people import acting, co_acting

    graph = rec.graph
    products = graph.nodes("product")
    rng = np.random.default_rng(1)
    tight = 0
    for a, b in rng.integers(0, len(products), (300, 2)).tolist():
        both = co_acting(graph, a, b)
        assert both <= min(acting(graph, a), acting(graph, b))
        counts = [people(graph, (products[a], name, products[b])) for name in LINK_AGGREGATES]
        assert max(counts) <= both
        tight += max(counts) == both > 0
    assert tight > 0 and co_acting(graph, -1, 0) == acting(graph, len(products)) == 0


def test_skipping_cf_evidence_no_cf_path_can_use_changes_no_answer(rec: Recommender,
                                                                    monkeypatch) -> None:
    """served_paths leaves out the cf evidence of items cf_may_link rules out: every
    explained answer is the one made with every item's cf evidence (the gate rules some out:
    it is asked where it matters)."""
    from recommend.paths import reasons

    users = rec.graph.nodes("user")[:40]
    ruled_out = 0
    gate = reasons.cf_may_link

    def counted(*args: Any, **kwargs: Any) -> np.ndarray:
        nonlocal ruled_out
        found = gate(*args, **kwargs)
        ruled_out += int((~found).sum())
        return found

    monkeypatch.setattr(reasons, "cf_may_link", counted)
    gated = [repr(rec.recommend(u, k=10)) for u in users]
    monkeypatch.setattr(reasons, "cf_may_link", lambda graph, user, items, *a, **k:
                        np.ones(len(items), bool))
    assert [repr(rec.recommend(u, k=10)) for u in users] == gated
    assert ruled_out > 0
