"""The users' take rate and the audience's activity weight, chosen on a time cut."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kg.interactions import NO_TIME, latest_times
from recommend.marketer.audience import audience_parts, top_users
from recommend.marketer.columns import TAKES
from recommend.marketer.propensity import take_rate
from recommend.marketer.tune import choose_activity
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
        parts.scores(0.3, 1.0)  # the model's config has the activity off: no rate


def _timed_held_out(model, late_ranking) -> tuple[sp.csr_matrix, sp.coo_matrix]:
    """Held-out users of products 0..19: 8 taken late (the top of ``late_ranking(i)``), 8
    early (at random); and the pairs' first take times."""
    first = latest_times(model.graph, TAKES, first=True).data
    early, late = float(first[first > NO_TIME].min()), float(first.max()) + 10.0
    rng = np.random.default_rng(0)
    rows, cols, times = [], [], []
    for i in range(20):
        cand = np.flatnonzero(audience_parts(model, i).cand)
        top = top_users(late_ranking(i), 8)
        rest = rng.choice(np.setdiff1d(cand, top), 8, replace=False)
        rows += [*top.tolist(), *rest.tolist()]
        cols += [i] * 16
        times += [late] * 8 + [early] * 8
    shape = model.seen_.shape
    held = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    return held, sp.coo_matrix((np.asarray(times), (rows, cols)), shape=shape)


def test_late_takers_who_are_the_most_active_choose_the_activity(model) -> None:
    late_now = float(latest_times(model.graph, TAKES, first=True).data.max()) + 10.0
    rate = take_rate(model.graph, 0.03, now=late_now)

    def by_rate(i: int) -> np.ndarray:
        return np.where(audience_parts(model, i).cand, rate, -np.inf)

    held, times = _timed_held_out(model, by_rate)
    chosen, record = choose_activity(model, held, times, 0.3, (1.0, 2.0), (0.0, 0.1))
    assert chosen is not None and chosen[0] > 0
    assert record["cut"] == pytest.approx(late_now) and record["products"] == 20
    assert record["recall"][f"{chosen[0]:g}@{chosen[1]:g}"] > record["recall"]["0@0.1"]


def test_late_takers_by_taste_keep_the_activity_off(model) -> None:
    held, times = _timed_held_out(model, lambda i: audience_parts(model, i).scores(0.3)[0])
    chosen, record = choose_activity(model, held, times, 0.3, (1.0, 2.0), (0.0, 0.1))
    assert chosen == (0.0, 0.1) and record["recall"]["0@0.1"] == pytest.approx(1.0)


def test_untimed_held_out_pairs_keep_the_fixed_activity(model) -> None:
    held, times = _timed_held_out(model, lambda i: audience_parts(model, i).scores(0.3)[0])
    untimed = sp.coo_matrix((np.full(times.nnz, NO_TIME), (times.row, times.col)),
                            shape=times.shape)
    chosen, record = choose_activity(model, held, untimed, 0.3, (1.0,), (0.0, 0.1))
    assert chosen is None and "kept" in record["note"]
