"""The users' take rate, its decay chosen on the graph's time cut, and the audience's use of it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kg.interactions import NO_TIME, PRODUCT_RELATIONS, latest_times
from recommend.marketer.audience import audience_parts
from recommend.marketer.columns import TAKES
from recommend.marketer.propensity import choose_tau, take_rate
from recommend.recommender import Recommender


@pytest.fixture(scope="module")
def model(market_artifact):
    return Recommender.load(market_artifact).model


def _direct_rate(graph, tau_share: float, now: float | None) -> np.ndarray:
    """The take rate summed pair by pair (the module's definition, written out)."""
    first = latest_times(graph, TAKES, first=True).tocoo()
    pairs = [(u, t) for u, t in zip(first.row.tolist(), first.data.tolist(), strict=True)
             if now is None or t < now]
    times = [t for _, t in pairs if t > NO_TIME]
    latest = max(times) if now is None else now
    span = latest - min(times)
    out = np.zeros(graph.num_nodes("user"))
    for u, t in pairs:
        age = latest - t if t > NO_TIME else span
        out[u] += np.exp(-age / (tau_share * span))
    return out / out.max()


@pytest.mark.parametrize("tau", [0.03, 0.3])
def test_the_take_rate_is_the_decayed_count_of_takes(model, tau: float) -> None:
    graph = model.graph
    np.testing.assert_allclose(take_rate(graph, tau), _direct_rate(graph, tau, None))
    times = latest_times(graph, TAKES, first=True).data
    now = float(np.median(times[times > NO_TIME]))
    np.testing.assert_allclose(take_rate(graph, tau, now), _direct_rate(graph, tau, now))
    assert take_rate(graph, tau).max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tau_share"):
        take_rate(graph, 0.0)


def test_a_short_decay_ranks_the_latest_taker_first(model) -> None:
    first = latest_times(model.graph, TAKES, first=True).tocoo()
    latest_user = int(first.row[np.argmax(first.data)])
    assert int(np.argmax(take_rate(model.graph, 1e-6))) == latest_user


def test_the_activity_weight_multiplies_the_taste_by_the_rate(model) -> None:
    parts = audience_parts(model, 3)
    taste, taste_parts = parts.scores(0.3)
    assert (taste_parts[:, -1] == 0).all()  # no activity part when its weight is 0
    rate = take_rate(model.graph, 0.1)
    scores, with_rate = parts.scores(0.3, 1.0, rate)
    cand = parts.cand
    np.testing.assert_allclose(with_rate[:, -1], rate)
    expected = (np.log(taste[cand] - taste[cand].min() + 0.01) + np.log(rate[cand] + 0.01))
    np.testing.assert_allclose(scores[cand], expected)
    assert np.isneginf(scores[~cand]).all()
    with pytest.raises(ValueError, match="take rate"):
        dataclasses.replace(parts, rate=None).scores(0.3, 1.0)


def test_the_decay_chosen_finds_most_of_the_takers_after_the_cut(model) -> None:
    graph = model.graph
    tau, record = choose_tau(graph, (0.01, 0.1, 1.0))
    assert tau in (0.01, 0.1, 1.0) and record["chosen"] == tau
    assert record["recall"][f"{tau:g}"] == max(record["recall"].values())
    times = latest_times(graph, TAKES, first=True).data
    assert record["cut"] == pytest.approx(np.quantile(times[times > NO_TIME], 0.8))
    # the recall written out: known users ranked by the rate at the cut, takers after it
    first = latest_times(graph, TAKES, first=True).tocoo()
    events = latest_times(graph, PRODUCT_RELATIONS, first=True).tocoo()
    known = set(events.row[events.data < record["cut"]].tolist())
    takers = known & set(first.row[first.data >= record["cut"]].tolist())
    assert record["takers"] == len(takers) and record["known"] == len(known)
    rate = take_rate(graph, tau, now=record["cut"])
    ranked = sorted(known, key=lambda u: (-rate[u], u))
    expected = np.mean([len(takers & set(ranked[:n])) / len(takers) for n in record["sizes"]])
    assert record["recall"][f"{tau:g}"] == pytest.approx(expected, abs=1e-4)


def test_no_decay_to_choose_keeps_the_fixed_one(model) -> None:
    assert choose_tau(model.graph, ())[0] is None


def test_the_build_chooses_the_decay_and_the_rate_is_served_when_on(small_demo_artifact) -> None:
    from recommend.marketer.audience import find_audience

    rec = Recommender.load(small_demo_artifact)
    config = rec.model.config
    assert config.audience_activity_weight == 0.0  # off by default
    record = rec.model.info["audience"]["time_cut"]["activity"]
    assert record.get("chosen", 0.01) == config.audience_activity_tau
    item = rec.graph.nodes("product")[0]
    assert "take rate" not in rec.audience(item, 10).method
    on = dataclasses.replace(rec.model, config=dataclasses.replace(
        config, audience_activity_weight=1.0))
    aud = find_audience(on, item, 10)
    assert "take rate" in aud.method
    rate = take_rate(rec.graph, config.audience_activity_tau)
    for m in aud.members:
        assert m.parts["activity"] == pytest.approx(rate[rec.graph.index(m.user)])
        if m.parts["activity"] > 0:  # the member's own acts: told only as a kind
            assert any(w.startswith("activity:") for w in m.withheld)
        assert m.paths or m.withheld  # every member explained
        assert "activity" not in m.to_json()["parts"]  # their pace of buying is not shown
