"""The users' take rate: a return model fitted on the graph's own time cut, and its use."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from kg.interactions import NO_TIME, latest_times
from recommend.marketer import propensity
from recommend.marketer.audience import audience_parts
from recommend.marketer.columns import TAKES
from recommend.marketer.propensity import (
    FEATURES,
    ReturnModel,
    cut_time,
    fit_return_model,
    take_rate,
)
from recommend.recommender import Recommender


@pytest.fixture(scope="module")
def model(market_artifact):
    return Recommender.load(market_artifact).model


def _history(graph, until: float) -> dict[int, list[float]]:
    """Each user's first take times before ``until``, pair by pair."""
    first = latest_times(graph, TAKES, first=True).tocoo()
    out: dict[int, list[float]] = {}
    for u, t in zip(first.row.tolist(), first.data.tolist(), strict=True):
        if t > NO_TIME and t < until:
            out.setdefault(u, []).append(t)
    return out


def test_the_model_is_fitted_at_the_graph_cut_on_who_takes_after_it(model) -> None:
    graph = model.graph
    times = latest_times(graph, TAKES, first=True).data
    assert (times > NO_TIME).all()  # the demo world's takes are all timed
    timed = times
    fitted = fit_return_model(graph)
    cut = cut_time(graph)
    assert cut == pytest.approx(np.quantile(timed, 0.8))
    record = fitted.record
    before = _history(graph, cut)
    after = _history(graph, np.inf)
    takes_after = {u: len(after[u]) - len(before.get(u, [])) for u in after}
    assert record["cut"] == cut and record["period"] == pytest.approx(timed.max() - cut)
    assert record["users"] == len(before)
    assert record["takers"] == sum(takes_after.get(u, 0) > 0 for u in before)
    assert record["takes_after"] == sum(takes_after.get(u, 0) for u in before)
    assert fitted.coef is not None and set(record["coefficients"]) == set(FEATURES)


def test_the_rate_is_the_expected_takes_written_out(model) -> None:
    graph = model.graph
    fitted = fit_return_model(graph)
    history = _history(graph, np.inf)
    now = max(max(ts) for ts in history.values())
    expected = np.zeros(graph.num_nodes("user"))
    for u, ts in history.items():  # the features of the module docstring, one user at a time
        gap, age = (now - max(ts)) / fitted.period, (now - min(ts)) / fitted.period
        x = np.array([np.log1p(len(ts)), np.log(gap + 0.01), np.log1p(age)])
        expected[u] = np.exp(fitted.coef[0] + ((x - fitted.mean) / fitted.scale) @ fitted.coef[1:])
    rate = take_rate(graph)
    np.testing.assert_allclose(rate, expected / expected.max())
    assert rate.max() == pytest.approx(1.0) and (rate[expected == 0] == 0).all()


def test_the_poisson_fit_recovers_known_coefficients() -> None:
    rng = np.random.default_rng(0)
    x = np.column_stack([np.ones(20_000), rng.normal(size=(20_000, 3))])
    truth = np.array([0.2, 0.5, -0.8, 0.3])
    y = rng.poisson(np.exp(x @ truth)).astype(float)
    np.testing.assert_allclose(propensity._poisson(x, y), truth, atol=0.03)


def test_the_expected_count_follows_the_signs_of_the_coefficients() -> None:
    fitted = ReturnModel(np.array([0.0, 1.0, -1.0, 0.5]), np.zeros(3), np.ones(3), 10.0, {})
    counts = np.array([1.0, 5.0, 1.0, 1.0, 0.0])
    first = np.array([90.0, 90.0, 90.0, 50.0, np.inf])
    last = np.array([90.0, 90.0, 99.0, 90.0, -np.inf])
    out = fitted.expected(counts, first, last, 100.0)
    assert out[1] > out[0]  # more takes
    assert out[2] > out[0]  # a later last take
    assert out[3] > out[0]  # an older first take, the same last one
    assert out[4] == 0  # no take: nothing expected
    plain = ReturnModel(None, np.zeros(0), np.zeros(0), 1.0, {})
    np.testing.assert_array_equal(plain.expected(counts, first, last, 100.0), counts)


def test_without_times_the_rate_is_the_count_of_takes(monkeypatch) -> None:
    import kg.interactions

    rows, cols = np.array([0, 0, 0, 1, 2, 2]), np.array([0, 1, 2, 0, 1, 3])
    first = sp.coo_matrix((np.full(6, NO_TIME), (rows, cols)), shape=(4, 5))
    monkeypatch.setattr(kg.interactions, "latest_times", lambda *a, **kw: first)
    graph = SimpleNamespace(cached=lambda key, fn: fn(), num_nodes=lambda kind: 4)
    assert cut_time(graph) is None
    assert "fewer than 2 timed takes" in fit_return_model(graph).record["note"]
    np.testing.assert_allclose(take_rate(graph), [1.0, 1 / 3, 2 / 3, 0.0])


def test_no_taker_after_the_cut_falls_back_to_the_count(monkeypatch) -> None:
    import kg.interactions

    # every user takes before the cut, and nobody after it but users new after it
    rows = np.array([0, 0, 1, 2, 3, 3])
    times = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 11.0])
    first = sp.coo_matrix((times, (rows, np.arange(6))), shape=(4, 6))
    monkeypatch.setattr(kg.interactions, "latest_times", lambda *a, **kw: first)
    graph = SimpleNamespace(cached=lambda key, fn: fn(), num_nodes=lambda kind: 4)
    record = fit_return_model(graph).record
    assert "takes anything after it" in record["note"]
    np.testing.assert_allclose(take_rate(graph), [1.0, 0.5, 0.5, 1.0])


def test_the_activity_weight_multiplies_the_taste_by_the_rate(model) -> None:
    parts = audience_parts(model, 3)
    taste, taste_parts = parts.scores(0.3)
    assert (taste_parts[:, -1] == 0).all()  # no activity part when its weight is 0
    np.testing.assert_array_equal(parts.score(0.3), taste)
    rate = take_rate(model.graph)
    scores, with_rate = parts.scores(0.3, 1.0, rate)
    np.testing.assert_array_equal(parts.score(0.3, 1.0, rate), scores)
    cand = parts.cand
    np.testing.assert_allclose(with_rate[:, -1], rate)
    expected = (np.log(taste[cand] - taste[cand].min() + 0.01) + np.log(rate[cand] + 0.01))
    np.testing.assert_allclose(scores[cand], expected)
    assert np.isneginf(scores[~cand]).all()
    with pytest.raises(ValueError, match="take rate"):
        dataclasses.replace(parts, rate=None).scores(0.3, 1.0)


def test_the_build_records_the_rate_and_serves_it_when_on(small_demo_artifact) -> None:
    from recommend.marketer.audience import find_audience

    rec = Recommender.load(small_demo_artifact)
    config = rec.model.config
    record = rec.model.info["audience"]["time_cut"]
    if "chosen" in record:  # judged: the rate of the graph before the cut, and the served one
        served = fit_return_model(rec.graph).record
        assert record["rate_served"]["cut"] == pytest.approx(served["cut"])
        assert record["rate_served"]["users"] == served["users"]
        assert record["rate_before_cut"]["cut"] < record["cut"] == pytest.approx(served["cut"])
    item = rec.graph.nodes("product")[0]
    assert ("take rate" in rec.audience(item, 10).method) == (config.audience.activity_weight > 0)
    on = dataclasses.replace(rec.model, config=config.updated(audience={"activity_weight": 1.0}))
    aud = find_audience(on, item, 10)
    assert "take rate" in aud.method
    rate = take_rate(rec.graph)
    for m in aud.members:
        assert m.parts["activity"] == pytest.approx(rate[rec.graph.index(m.user)])
        if m.parts["activity"] > 0:  # the member's own acts: told only as a kind
            assert any(w.startswith("activity:") for w in m.withheld)
        assert m.paths or m.withheld  # every member explained
        assert "activity" not in m.to_json()["parts"]  # their pace of buying is not shown
