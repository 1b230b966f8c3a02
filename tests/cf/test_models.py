"""Behaviour of individual cf models beyond the shared contract."""

from __future__ import annotations

import numpy as np
import pytest

from cf.data import Interactions
from cf.ease import EASE, recency_weights
from cf.implicit_mf import WeightedALS, _cg_half_step
from cf.knn import ItemKNN, UserKNN, pearson_on_support
from cf.sequential import SelfAttentiveRec
from cf.session import SessionCooccurrence


def test_user_knn_matches_the_mean_centred_formula(world: Interactions) -> None:
    model = UserKNN(k=5, similarity="pearson", shrinkage=0).fit(world)
    r = world.matrix.toarray()
    rated = r > 0
    means = r.sum(1) / rated.sum(1)
    sim = model.sim_
    u, j = 0, int(np.flatnonzero(~rated[0])[0])
    raters = np.flatnonzero(rated[:, j])
    top = raters[np.argsort(-sim[u, raters], kind="stable")[:5]]
    w = sim[u, top]
    expected = means[u] + (w * (r[top, j] - means[top])).sum() / np.abs(w).sum()
    got = model.predict_indices(np.array([u]), np.array([j])).ratings[0]
    assert got == pytest.approx(np.clip(expected, 1, 5), abs=1e-9)


def test_pearson_is_taken_over_co_rated_items_only(world: Interactions) -> None:
    sim = pearson_on_support(world.matrix.astype(np.float64))
    r = world.matrix.toarray()
    a, b = 0, 2
    common = (r[a] > 0) & (r[b] > 0)
    expected = np.corrcoef(r[a, common], r[b, common])[0, 1]
    assert sim[a, b] == pytest.approx(expected)


def test_shrinkage_pulls_small_overlaps_towards_zero(world: Interactions) -> None:
    raw = ItemKNN(shrinkage=0).fit(world).sim_
    shrunk = ItemKNN(shrinkage=100).fit(world).sim_
    assert np.all(np.abs(shrunk) <= np.abs(raw) + 1e-12)
    assert np.abs(shrunk).sum() < 0.5 * np.abs(raw).sum()


def test_cg_half_step_converges_to_the_exact_weighted_ridge_solution(world) -> None:
    rng = np.random.default_rng(0)
    c = world.binary()
    c.data = 1.0 + 4.0 * c.data
    y = rng.normal(size=(world.n_items, 4))
    x = _cg_half_step(c, np.zeros((world.n_users, 4)), y, reg=0.5, steps=30)
    cu = np.ones(world.n_items)
    cu[c[0].indices] = c[0].data
    p = np.zeros(world.n_items)
    p[c[0].indices] = 1.0
    exact = np.linalg.solve(y.T @ (cu[:, None] * y) + 0.5 * np.eye(4), y.T @ (cu * p))
    np.testing.assert_allclose(x[0], exact, rtol=1e-6, atol=1e-8)


def test_wals_fits_the_observed_cells(world: Interactions) -> None:
    model = WeightedALS(factors=8, iterations=10, alpha=5.0, reg=0.1).fit(world)
    scores = model.score_rows(np.arange(world.n_users))
    seen = world.binary().toarray() > 0
    assert scores[seen].mean() > scores[~seen].mean() + 0.3


def test_ease_recency_weights_the_latest_items_most(world: Interactions) -> None:
    w = recency_weights(world, tau=2.0)
    latest = world.ordered_items(0)
    row = w[0].toarray().ravel()
    assert row[latest[-1]] == pytest.approx(1.0)
    assert np.all(np.diff(row[latest]) > 0)
    assert EASE(recency_tau=None).fit(world)._history[0].toarray().max() == 1.0


def _cycle_walks(n_items: int = 12, n_users: int = 60, gap: float = 1.0) -> Interactions:
    """Users walk a cycle of items, one step every ``gap`` seconds."""
    rng = np.random.default_rng(1)
    users, items, ts = [], [], []
    for u in range(n_users):
        start = int(rng.integers(n_items))
        for pos in range(6):
            users.append(u)
            items.append((start + pos) % n_items)
            ts.append(pos * gap)
    return Interactions.from_arrays(users, items, None, ts, item_ids=np.arange(n_items))


def test_session_model_predicts_the_successor_within_its_window() -> None:
    x = _cycle_walks()
    last = np.array([x.ordered_items(u)[-1] for u in range(60)])
    recs = SessionCooccurrence(window=1.0, max_lag=5, recency_tau=1.0).fit(x).recommend(
        np.arange(60), k=1)
    assert np.mean(recs.item_indices[:, 0] == (last + 1) % 12) > 0.9
    far = SessionCooccurrence(window=1.0).fit(_cycle_walks(gap=10.0))
    assert far._transitions.nnz == 0  # steps further apart than the window never count


def test_sequence_model_predicts_the_successor() -> None:
    """Users walk a cycle of items; the attention model learns what comes next."""
    import torch

    n_items = 12
    x = _cycle_walks(n_items)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = SelfAttentiveRec(dim=16, layers=1, max_len=6, epochs=150, lr=0.01, seed=0).fit(x)
    finally:
        torch.set_num_threads(before)
    recs = model.recommend(np.arange(60), k=1)
    last = np.array([x.ordered_items(u)[-1] for u in range(60)])
    assert np.mean(recs.item_indices[:, 0] == (last + 1) % n_items) > 0.8
