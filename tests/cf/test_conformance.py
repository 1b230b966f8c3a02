"""One contract, checked for every cf model (STYLE.md habit 1)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from cf.base import (
    MODEL_REASON,
    UNKNOWN_USER_REASON,
    HistoryRecommender,
    RatingRecommender,
    Recommender,
)
from cf.data import Interactions
from cf.ease import EASE, recency_weights
from cf.implicit_mf import BPR, WeightedALS
from cf.item_knn import NeighbourItemKNN
from cf.knn import ItemKNN, UserKNN
from cf.mf import MatrixFactorization
from cf.neural import AutoencoderRec, NeuralCF
from cf.popular import MostPopular
from cf.sequential import SelfAttentiveRec
from cf.session import SessionCooccurrence

FACTORIES: dict[str, Callable[[], Recommender]] = {
    "popular": MostPopular,
    "user_knn_pearson": lambda: UserKNN(k=10, similarity="pearson", shrinkage=5),
    "user_knn_cosine": lambda: UserKNN(k=10, similarity="cosine", shrinkage=5),
    "item_knn": lambda: ItemKNN(k=10, shrinkage=5),
    "mf_sgd": lambda: MatrixFactorization(factors=4, epochs=30, lr=0.05, solver="sgd", seed=3),
    "mf_als": lambda: MatrixFactorization(factors=4, epochs=5, solver="als", seed=3),
    "wals": lambda: WeightedALS(factors=8, iterations=5, seed=3),
    "wals_offset0": lambda: WeightedALS(factors=8, iterations=5, alpha=2.0, offset=0.0, seed=3),
    "bpr": lambda: BPR(factors=8, epochs=50, lr=0.05, reg=0.01, seed=3),
    "ease": lambda: EASE(lam=10.0),
    "ease_recency": lambda: EASE(lam=10.0, recency_tau=10.0),
    "ease_pruned": lambda: EASE(lam=10.0, top_k=8),
    "ease_recency_pruned": lambda: EASE(lam=10.0, recency_tau=10.0, top_k=8),
    "item_knn_cosine": lambda: NeighbourItemKNN(weighting="cosine", top_k=10),
    "item_knn_tfidf": lambda: NeighbourItemKNN(weighting="tfidf", top_k=10),
    "item_knn_bm25": lambda: NeighbourItemKNN(weighting="bm25", top_k=10),
    "session": lambda: SessionCooccurrence(window=86400.0 * 30, recency_tau=None),
    "ncf": lambda: NeuralCF(
        factors=8, hidden=16, epochs=20, batch_size=256, lr=0.02, weight_decay=1e-4, seed=3
    ),
    "autoencoder": lambda: AutoencoderRec(hidden=16, epochs=100, lr=0.01, seed=3),
    "sasrec": lambda: SelfAttentiveRec(
        dim=16, heads=2, layers=1, max_len=8, epochs=150, lr=0.01, seed=3
    ),
}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny torch models on a shared 2-core box: extra threads only add contention."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def fitted(request: pytest.FixtureRequest, world: Interactions) -> tuple[str, Recommender]:
    return request.param, FACTORIES[request.param]().fit(world)


def test_recommend_shapes_order_and_seen_items_excluded(fitted, world: Interactions) -> None:
    _, model = fitted
    users = ["u0", "u1", "u7"]
    recs = model.recommend(users, k=5)
    assert recs.item_indices.shape == (3, 5)
    assert recs.reasons == (MODEL_REASON,) * 3
    assert np.all(np.diff(recs.scores, axis=1) <= 1e-9)
    for row, user in enumerate(users):
        seen = set(world.matrix[world.user_index([user])[0]].indices.tolist())
        assert not seen & set(recs.item_indices[row].tolist())
        assert list(recs.item_ids[row]) == list(world.item_ids[recs.item_indices[row]])


def test_exclude_seen_false_allows_the_whole_catalogue(fitted, world: Interactions) -> None:
    _, model = fitted
    recs = model.recommend(["u0"], k=world.n_items, exclude_seen=False)
    assert sorted(recs.item_indices[0].tolist()) == list(range(world.n_items))


def test_k_larger_than_candidates_pads(fitted, world: Interactions) -> None:
    _, model = fitted
    recs = model.recommend(["u2"], k=world.n_items + 5)
    n_seen = world.matrix[world.user_index(["u2"])[0]].nnz
    assert recs.item_indices.shape[1] == world.n_items
    assert int((recs.item_indices[0] >= 0).sum()) == world.n_items - n_seen
    assert len(recs.item_ids[0]) == world.n_items - n_seen


def test_unknown_user_gets_popular_items_with_a_reason(fitted, world: Interactions) -> None:
    _, model = fitted
    recs = model.recommend(["nobody", "u0"], k=3)
    assert recs.reasons == (UNKNOWN_USER_REASON, MODEL_REASON)
    popularity = np.asarray(world.binary().sum(axis=0)).ravel()
    top3 = np.sort(popularity)[::-1][:3]
    np.testing.assert_array_equal(popularity[recs.item_indices[0]], top3)
    scores = model.score(["nobody", "u0"], ["i0", "no-such-item"])
    assert scores.shape == (2, 2)
    assert np.isnan(scores[0]).all() and np.isnan(scores[1, 1]) and np.isfinite(scores[1, 0])


def test_deterministic_with_seed(fitted, world: Interactions) -> None:
    name, model = fitted
    again = FACTORIES[name]().fit(world)
    users, items = ["u0", "u3"], list(world.item_ids)
    np.testing.assert_allclose(again.score(users, items), model.score(users, items), rtol=1e-5)


def test_save_load_round_trip(fitted, world: Interactions, tmp_path) -> None:
    _, model = fitted
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = type(model).load(path)
    users, items = ["u0", "u5"], list(world.item_ids)
    np.testing.assert_allclose(loaded.score(users, items), model.score(users, items), rtol=1e-5)
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype != object for k in z.files)


def test_learns_the_taste_groups(fitted, world: Interactions) -> None:
    """Personalised models put the user's own group first (popularity cannot)."""
    name, model = fitted
    if name == "popular":
        pytest.skip("no personalisation")
    if name in ("sasrec", "session"):
        pytest.skip("an order model: tested on sequences in test_models.py")
    users = [f"u{u}" for u in range(world.n_users)]
    recs = model.recommend(users, k=3)
    group = np.arange(world.n_users) % 2
    same = (recs.item_indices % 2) == group[:, None]
    assert same.mean() > 0.7


def test_rating_models_predict_with_fallback(fitted, world: Interactions) -> None:
    _, model = fitted
    if not isinstance(model, RatingRecommender):
        pytest.skip("ranking model")
    pred = model.predict(["u0", "u0", "ghost"], ["i0", "i1", "i0"])
    assert pred.was_impossible.tolist() == [False, False, True]
    assert pred.reasons[2].startswith("unknown user")
    assert pred.ratings[2] == pytest.approx(float(world.matrix.data.mean()))
    lo, hi = world.matrix.data.min(), world.matrix.data.max()
    assert np.all((pred.ratings >= lo) & (pred.ratings <= hi))
    # group 0 likes even items
    assert pred.ratings[0] > pred.ratings[1]


def test_history_models_score_a_history_like_its_training_user(fitted, world) -> None:
    """``score_history`` of a user's history, rebuilt from the raw interactions (not read
    back from the model), is that training user's scores.

    WeightedALS folds the history in exactly, so it only approximates the factors of the
    last ALS sweep: there the top items agree instead.
    """
    name, model = fitted
    if not isinstance(model, HistoryRecommender):
        pytest.skip("no history scoring")
    rows = np.arange(world.n_users)
    ease = isinstance(model, EASE)
    history = recency_weights(world, model.recency_tau) if ease else world.matrix
    fresh = model.score_history(history.tocoo())
    trained = model.score_rows(rows)
    assert fresh.shape == (world.n_users, world.n_items)
    if name.startswith("wals"):
        seen = world.binary().toarray() > 0
        fresh[seen], trained[seen] = -np.inf, -np.inf
        best = np.argmax(fresh, axis=1) == np.argmax(trained, axis=1)
        assert best.mean() > 0.8
    else:
        np.testing.assert_allclose(fresh, trained, rtol=1e-5, atol=1e-6)
