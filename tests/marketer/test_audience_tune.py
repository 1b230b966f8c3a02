"""The audience's category weight, chosen per artifact on the validation split."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.marketer.audience import activity, audience_parts, top_users
from recommend.marketer.columns import category_activity
from recommend.marketer.tune import audience_sizes, choose_category_weight
from recommend.recommender import Recommender

WEIGHTS = (0.0, 0.3, 1.0)


@pytest.fixture(scope="module")
def model(market_artifact):
    return Recommender.load(market_artifact).model


def _held_out(model, ranking) -> sp.csr_matrix:
    """Held-out users of products 0..19: each product's top 8 candidates by ``ranking(i)``,
    ties broken as the chooser breaks them (the more active users first)."""
    n_users, n_items = model.seen_.shape
    active = activity(model)
    rows, cols = [], []
    for i in range(20):
        top = top_users(ranking(i), 8, active)
        rows += top.tolist()
        cols += [i] * len(top)
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_users, n_items))


def test_takers_by_category_activity_choose_the_category(model) -> None:
    def by_category(i: int) -> np.ndarray:
        parts = audience_parts(model, i)
        noise = np.random.default_rng(i).random(len(parts.cand)) * 1e-6  # break ties
        return np.where(parts.cand, category_activity(model.graph, i) + noise, -np.inf)

    chosen, record = choose_category_weight(model, _held_out(model, by_category), WEIGHTS, 0.0)
    assert chosen == 1.0
    assert record["recall"]["1"] > record["recall"]["0"]
    assert record["products"] == 20 and record["sizes"] == audience_sizes(model.seen_.shape[0])


def test_takers_by_the_hybrid_choose_the_hybrid(model) -> None:
    chosen, record = choose_category_weight(
        model, _held_out(model, lambda i: audience_parts(model, i).score(0.0)), WEIGHTS, 1.0)
    assert chosen == 0.0
    assert record["recall"]["0"] == pytest.approx(1.0)


def test_a_gain_within_the_noise_keeps_the_fixed_weight(model) -> None:
    rng = np.random.default_rng(0)
    held = _held_out(model, lambda i: np.where(audience_parts(model, i).cand,
                                               rng.random(model.seen_.shape[0]), -np.inf))
    chosen, record = choose_category_weight(model, held, WEIGHTS, 0.3)
    assert chosen == 0.3 and record["gain_over_fixed"] <= record["two_standard_errors"]


def test_too_few_takers_keep_the_fixed_weight(model) -> None:
    held = _held_out(model, lambda i: audience_parts(model, i).score(0.0))
    chosen, record = choose_category_weight(model, held, WEIGHTS, 0.3, min_products=21)
    assert chosen is None and "20 products" in record["note"] and "kept" in record["note"]
    assert choose_category_weight(model, held, (), 0.3)[0] is None


def test_tune_audience_puts_the_choice_in_the_config(model) -> None:
    from types import SimpleNamespace

    from recommend.marketer.tune import tune_audience

    def by_category(i: int) -> np.ndarray:
        parts = audience_parts(model, i)
        return np.where(parts.cand, category_activity(model.graph, i), -np.inf)

    split = SimpleNamespace(train_graph=model.graph, relevant=_held_out(model, by_category))
    config = model.config.updated(audience={"category_weights": WEIGHTS, "category_weight": 0.0})
    tuned, record = tune_audience(split, config, model.components, model.blend)
    assert tuned.audience.category_weight == record["chosen"] == 1.0
    assert tuned.updated(audience={"category_weight": 0.0}) == config


def test_the_default_build_records_its_choice_and_serves_it(small_demo_artifact) -> None:
    rec = Recommender.load(small_demo_artifact)
    record = rec.model.info["audience"]
    config = rec.model.config
    assert record.get("chosen", 0.3) == config.audience.category_weight  # 0.3: the fixed one
    assert "chosen" in record or "fixed weight is kept" in record["note"]
    item = rec.graph.nodes("product")[0]
    assert f"weight {config.audience.category_weight:g}" in rec.audience(item, 5).method
    cut = record["time_cut"]  # then b and the rate's weight a, on the time cut
    assert "chosen" in cut or "kept" in cut["note"]
    if "chosen" in cut:
        assert cut["chosen"] == (f"b={config.audience.category_weight:g} "
                                 f"a={config.audience.activity_weight:g}")


def test_the_weight_must_be_a_share() -> None:
    from recommend.hybrid.config import AudienceConfig, HybridConfig

    with pytest.raises(ValueError, match=r"audience\.category_weight"):
        HybridConfig(audience=AudienceConfig(category_weight=1.5))
    with pytest.raises(ValueError, match=r"audience\.category_weight"):
        HybridConfig(audience=AudienceConfig(category_weights=(0.0, 2.0)))
    assert HybridConfig().updated(audience={"category_weight": 1.0})
