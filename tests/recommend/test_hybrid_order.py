"""Order evidence at the weight both kinds of held-out item give it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from recommend.hybrid.blend import Blend, fit_kind
from recommend.hybrid.order import order_consensus, share, with_share
from tests.recommend.pools import full_pool, held_out
from tests.recommend.shops import two_group_shop

GRID = (0.0, 0.1, 0.25, 0.5, 2.0, 4.0)


# subnormal weights excluded: a share of 5e-324 underflows (no fitted blend has one)
@given(st.lists(st.floats(-10, 10, allow_subnormal=False), min_size=2, max_size=6), st.data())
def test_with_share_gives_the_component_the_share_asked_for(weights, data) -> None:
    w = np.asarray(weights)
    j = data.draw(st.integers(0, len(w) - 1))
    target = data.draw(st.floats(0.0, 0.99))
    out = with_share(w, j, target)
    assert np.array_equal(np.delete(out, j), np.delete(w, j))  # the others are untouched
    if np.abs(np.delete(w, j)).sum() > 0:
        assert share(out, j) == pytest.approx(target, abs=1e-6)
    else:
        assert np.array_equal(out, w)


def two_kinds(n_users: int = 300, n_items: int = 12, seed: int = 0):
    """Each user has one latest item ("session" finds it, "cf" does not) and one earlier
    item ("cf" finds it; "session" points at the latest one instead)."""
    rng = np.random.default_rng(seed)
    rows, items = full_pool(n_users, n_items)
    picks = np.stack([rng.choice(n_items, 2, replace=False) for _ in range(n_users)])
    newest, older = picks[:, 0], picks[:, 1]
    is_new = items == newest[rows]
    is_old = items == older[rows]
    noise = rng.random((len(rows), 2)) * 0.6
    feats = np.stack([is_old * 0.7 + is_new * 0.3, is_new * 1.0], axis=1) + noise
    latest = held_out(newest, n_items)
    earlier = held_out(older, n_items)
    return feats, rows, items, latest, earlier


@pytest.mark.parametrize("kind", ["logistic", "listwise"])
def test_order_evidence_keeps_only_the_share_both_parts_give_it(kind) -> None:
    feats, rows, items, latest, earlier = two_kinds()
    names = ("cf", "session")
    blend = fit_kind(kind, feats, rows, items, (latest + earlier).tocsr(), names, None,
                     k=10, grid=GRID, rounds=3, seed=0)
    agreed = order_consensus(blend, feats, rows, items, latest, earlier, k=10, grid=GRID,
                             rounds=3, seed=0)
    record = agreed.validation["order_consensus"]["session"]
    assert record["latest"] > record["fitted"] > 0  # the latest part wants it most
    assert record["served"] == pytest.approx(max(min(record["latest"], record["earlier"]), 0),
                                             abs=1e-4)
    assert record["served"] < record["fitted"]
    assert share(agreed.weights, 1) == pytest.approx(record["served"], abs=1e-4)
    assert agreed.weights[0] == blend.weights[0] and agreed.kind == kind


def test_order_evidence_is_left_alone_without_both_parts_or_a_linear_blend() -> None:
    feats, rows, items, latest, earlier = two_kinds()
    names = ("cf", "session")
    blend = Blend(names, np.array([1.0, 1.0]), "logistic")
    empty = sp.csr_matrix(latest.shape)
    for lat, rest in ((latest, empty), (empty, earlier)):
        same = order_consensus(blend, feats, rows, items, lat, rest, k=10, grid=GRID,
                               rounds=3, seed=0)
        assert same is blend
    fixed = Blend(names, np.array([0.0, 1.0]), "fixed")
    assert order_consensus(fixed, feats, rows, items, latest, earlier, k=10, grid=GRID,
                           rounds=3, seed=0) is fixed
    no_order = Blend(("cf", "graph"), np.array([1.0, 1.0]), "coordinate")
    assert order_consensus(no_order, feats, rows, items, latest, earlier, k=10, grid=GRID,
                           rounds=3, seed=0) is no_order


def timed_shop(n_users: int = 120, seed: int = 0):
    """Two taste groups of 12 products; each user buys 10 of their group a minute apart."""
    return two_group_shop(n_users, 10, seed=seed)


@pytest.mark.parametrize("order_weight", ["fitted", "agreed"])
def test_the_fit_records_each_part_and_agrees_order_weight_when_asked(order_weight) -> None:
    from recommend.hybrid.config import (
        BlendConfig,
        CfConfig,
        ContentConfig,
        HybridConfig,
        SessionConfig,
    )
    from recommend.hybrid.fit import fit_hybrid

    config = HybridConfig(components=("cf", "session", "popularity"),
                          content=ContentConfig(encoder="none"),
                          blend=BlendConfig(learned_ranker=False, order_weight=order_weight),
                          cf=CfConfig(model="itemknn", recency_taus=(None,)),
                          session=SessionConfig(tune_windows=(3600.0,)))
    model = fit_hybrid(timed_shop(), config)
    selection = model.info["selection"]
    assert model.info["validation"]["mode"] == "mixed"
    parts = selection["ndcg@10_by_part"]
    assert set(parts) == {"latest", "earlier"}
    assert set(parts["latest"]) == {"cf", "session", "popularity", "blend"}
    gains = selection["blend_gain_by_part"]
    for part in ("latest", "earlier"):
        best = gains[part]["best"]
        assert gains[part]["gain"] == pytest.approx(parts[part]["blend"] - parts[part][best],
                                                    abs=2e-5)
    agreed = model.blend.validation.get("order_consensus")
    if order_weight == "fitted":
        assert agreed is None
    else:
        record = agreed["session"]
        assert record["served"] <= record["fitted"] + 1e-9
        assert record["served"] <= max(min(record["latest"], record["earlier"]), 0) + 1e-4
