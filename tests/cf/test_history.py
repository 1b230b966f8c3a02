"""History scoring, top-K pruning and bounded fitting of the item x item models."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import cf.sparse_topk as topk_mod
from cf.data import Interactions
from cf.ease import EASE, CatalogueTooLarge, fit_bytes, inverse_gram
from cf.implicit_mf import WeightedALS
from cf.item_knn import NeighbourItemKNN, item_weights
from cf.sparse_topk import prune_blocks, top_k_rows


def _random_counts(seed: int = 1, n_users: int = 200, n_items: int = 60) -> Interactions:
    """Continuous values, so no two similarities tie at the top-K cut."""
    rng = np.random.default_rng(seed)
    m = sp.random(n_users, n_items, density=0.1, random_state=seed, format="csr")
    m.data = rng.uniform(0.5, 5.0, m.nnz)
    return Interactions(m.astype(np.float32), np.arange(n_users), np.arange(n_items))


def _brute_top_k(dense: np.ndarray, k: int, magnitude: bool) -> list[set[int]]:
    key = np.abs(dense) if magnitude else dense
    out = []
    for row, keys in zip(dense, key, strict=True):
        order = [j for j in np.argsort(-keys, kind="stable")[:k] if row[j] != 0]
        out.append(set(order))
    return out


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    shape=st.tuples(st.integers(1, 12), st.integers(1, 15)),
    k=st.integers(1, 20),
    magnitude=st.booleans(),
)
def test_top_k_rows_keeps_exactly_the_k_largest_non_zeros(seed, shape, k, magnitude) -> None:
    rng = np.random.default_rng(seed)
    dense = rng.permutation(np.arange(1, shape[0] * shape[1] + 1)).reshape(shape).astype(float)
    dense *= rng.choice([-1.0, 0.0, 1.0], size=shape)  # distinct magnitudes, some zeros
    kept = top_k_rows(dense, k, magnitude=magnitude)
    assert kept.has_sorted_indices
    for r, want in enumerate(_brute_top_k(dense, k, magnitude)):
        row = kept[r]
        assert set(row.indices.tolist()) == want
        np.testing.assert_array_equal(row.data, dense[r, row.indices])


def test_prune_blocks_matches_one_block(monkeypatch) -> None:
    dense = np.random.default_rng(0).normal(size=(37, 37))
    whole = top_k_rows(dense, 5, magnitude=True).astype(np.float32)
    monkeypatch.setattr(topk_mod, "BLOCK_ENTRIES", 37 * 4)  # 10 blocks of 4 rows
    blocks = prune_blocks(37, 37, lambda lo, hi: dense[lo:hi], 5, magnitude=True)
    assert blocks.shape == (37, 37) and blocks.dtype == np.float32
    assert (blocks != whole).nnz == 0


def test_inverse_gram_in_place_equals_numpy(monkeypatch) -> None:
    monkeypatch.setattr(topk_mod, "BLOCK_ENTRIES", 60 * 7)
    b = _random_counts().binary()
    expected = np.linalg.inv((b.T @ b).toarray().astype(np.float64) + 5.0 * np.eye(60))
    np.testing.assert_allclose(inverse_gram(b, 5.0), expected, rtol=1e-10, atol=1e-12)


def test_inverse_gram_rejects_a_singular_gram() -> None:
    b = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0]]))  # nobody has item 1: lam 0 is singular
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        inverse_gram(b, 0.0)


def test_ease_pruned_keeps_the_top_k_of_each_dense_row(world: Interactions) -> None:
    dense = EASE(lam=10.0).fit(world).weights_
    pruned = EASE(lam=10.0, top_k=6).fit(world).weights_
    assert isinstance(pruned, sp.csr_matrix)
    assert np.diff(pruned.indptr).max() <= 6
    for i, want in enumerate(_brute_top_k(dense, 6, magnitude=True)):
        assert set(pruned[i].indices.tolist()) == want
        np.testing.assert_allclose(pruned[i].data, dense[i, pruned[i].indices], rtol=1e-6)


def test_ease_stays_dense_where_pruning_would_not_shrink_it(world: Interactions) -> None:
    """A CSR entry takes the room of two dense ones: at top_k >= n / 2 pruning only drops
    weights (bench/shapes.py's ratings-explicit, 1,682 products: a top 500 lost NDCG to it)."""
    dense = EASE(lam=10.0).fit(world).weights_
    assert world.n_items == 30
    for k in (15, 29):  # 2 k >= n: kept whole, and dense
        kept = EASE(lam=10.0, top_k=k).fit(world).weights_
        assert isinstance(kept, np.ndarray)
        np.testing.assert_array_equal(kept, dense)
    assert isinstance(EASE(lam=10.0, top_k=14).fit(world).weights_, sp.csr_matrix)


def test_ease_weights_follow_the_closed_form(world: Interactions) -> None:
    b = world.binary().toarray().astype(np.float64)
    p = np.linalg.inv(b.T @ b + 10.0 * np.eye(world.n_items))
    expected = -p / np.diag(p)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(EASE(lam=10.0).fit(world).weights_, expected, rtol=1e-5, atol=1e-7)


def test_ease_refuses_a_catalogue_above_max_items(world: Interactions) -> None:
    model = EASE(max_items=29)
    with pytest.raises(CatalogueTooLarge, match=r"30 items .* 30 x 30 Gram.*max_items=29"):
        model.fit(world)
    assert not hasattr(model, "train_")  # refused before storing anything
    EASE(max_items=None, lam=10.0).fit(world)  # no bound
    assert fit_bytes(20_000, None) == 12 * 20_000**2
    assert fit_bytes(20_000, 100) == 8 * 20_000**2


def test_pruned_ease_saves_only_the_sparse_rows(world: Interactions, tmp_path) -> None:
    model = EASE(lam=10.0, top_k=4).fit(world)
    model.save(tmp_path / "ease.npz")
    with np.load(tmp_path / "ease.npz", allow_pickle=False) as z:
        assert "state:weights_" not in z.files
        assert z["csr:weights_:data"].shape == (model.weights_.nnz,)
        assert model.weights_.nnz <= 4 * world.n_items
    loaded = EASE.load(tmp_path / "ease.npz")
    assert isinstance(loaded.weights_, sp.csr_matrix) and loaded.top_k == 4
    assert (loaded.weights_ != model.weights_).nnz == 0


@pytest.mark.filterwarnings("ignore:Method expects CSR input")  # implicit's own coo
@pytest.mark.parametrize("weighting", ["cosine", "tfidf", "bm25"])
def test_item_knn_matches_implicit(weighting: str) -> None:
    nn = pytest.importorskip("implicit.nearest_neighbours", reason="implicit (bench peer) absent")
    peer_class = {
        "cosine": nn.CosineRecommender,
        "tfidf": nn.TFIDFRecommender,
        "bm25": nn.BM25Recommender,
    }[weighting]
    x = _random_counts()
    ours = NeighbourItemKNN(weighting=weighting, top_k=10).fit(x)
    peer = peer_class(K=10, num_threads=1)
    peer.fit(x.matrix.tocsr(), show_progress=False)
    theirs = peer.similarity.tocsr().astype(np.float64)
    mine = ours.similarity_.astype(np.float64)
    assert (abs(mine - theirs) > 1e-4 * abs(theirs).max()).nnz == 0
    assert ((mine != 0) != (theirs != 0)).nnz == 0
    users = np.arange(x.n_users)
    ids, scores = peer.recommend(users, x.matrix.tocsr(), N=10)
    recs = ours.recommend_rows(users, k=10)
    positive = scores > 1e-6  # implicit ranks only items some neighbour reaches
    assert positive.sum() > 1000
    np.testing.assert_array_equal(recs.item_indices[positive], ids[positive])


def test_item_knn_weightings_follow_the_formulas() -> None:
    counts = sp.csr_matrix(np.array([[1.0, 2.0, 0.0, 0.0, 5.0], [3.0, 0.0, 1.0, 4.0, 0.0]]))
    idf = np.log(5.0) - np.log1p(np.array([3.0, 3.0]))  # each user has 3 of the 5 items
    ct = counts.T.toarray()  # items x users
    w = item_weights(counts, "bm25", k1=1.2, b=0.75).toarray()
    length = ct.sum(axis=1)
    norm = 0.25 + 0.75 * length / length.mean()
    np.testing.assert_allclose(w, ct * 2.2 / (1.2 * norm[:, None] + ct) * idf)
    raw = np.sqrt(ct) * idf
    expected = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    np.testing.assert_allclose(item_weights(counts, "tfidf").toarray(), expected)
    cosine = item_weights(counts, "cosine").toarray()
    np.testing.assert_allclose(cosine, ct / np.linalg.norm(ct, axis=1, keepdims=True))
    with pytest.raises(ValueError, match="weighting must be one of"):
        NeighbourItemKNN(weighting="jaccard")  # type: ignore[arg-type]


def test_tfidf_zero_idf_leaves_the_item_out_not_nan() -> None:
    """A user holding all but one item has idf log(n) - log(n) = 0: no NaN, no entry."""
    counts = sp.csr_matrix(np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 1.0]]))
    w = item_weights(counts, "tfidf")
    assert w.nnz == 0 and np.isfinite(w.data).all()
    x = Interactions(counts.astype(np.float32), np.arange(2), np.arange(3))
    assert np.isfinite(NeighbourItemKNN(weighting="tfidf").fit(x).score_rows([0, 1])).all()


def test_item_knn_scores_a_fresh_history_from_its_rows_only() -> None:
    x = _random_counts()
    model = NeighbourItemKNN(weighting="cosine", top_k=5).fit(x)
    assert np.diff(model.similarity_.indptr).max() <= 5
    history = sp.csr_matrix(([2.0, 0.5], ([0, 0], [3, 17])), shape=(1, x.n_items))
    s = model.similarity_.toarray()
    np.testing.assert_allclose(model.score_history(history)[0], 2.0 * s[3] + 0.5 * s[17])


def test_score_history_rejects_bad_input(world: Interactions) -> None:
    model = EASE(lam=10.0).fit(world)
    with pytest.raises(TypeError, match="scipy sparse"):
        model.score_history(np.ones((1, world.n_items)))
    with pytest.raises(ValueError, match="history has 3 item columns; the model has 30"):
        model.score_history(sp.csr_matrix((1, 3)))
    bad = sp.csr_matrix(([np.nan], ([0], [0])), shape=(1, world.n_items))
    with pytest.raises(ValueError, match="finite"):
        model.score_history(bad)
    repeated = sp.csr_matrix(([1.0, 1.0], ([0, 0], [2, 2])), shape=(1, world.n_items))
    summed = sp.csr_matrix(([2.0], ([0], [2])), shape=(1, world.n_items))
    np.testing.assert_allclose(model.score_history(repeated), model.score_history(summed))


def test_wals_fold_in_solves_the_weighted_ridge_exactly(world: Interactions) -> None:
    model = WeightedALS(factors=4, iterations=3, alpha=3.0, reg=0.5, seed=0).fit(world)
    history = world.matrix[[0, 5]]
    y = model.item_factors_.astype(np.float64)
    got = model.fold_in(history)
    for row in range(2):
        conf = np.ones(world.n_items)
        pref = np.zeros(world.n_items)
        conf[history[row].indices] = 1.0 + 3.0 * history[row].data
        pref[history[row].indices] = 1.0
        a = y.T @ (conf[:, None] * y) + 0.5 * np.eye(4)
        np.testing.assert_allclose(got[row], np.linalg.solve(a, y.T @ (conf * pref)), rtol=1e-8)
    empty = sp.csr_matrix((1, world.n_items))
    np.testing.assert_array_equal(model.score_history(empty), 0.0)


def test_ease_fit_peak_memory_is_about_one_dense_gram(monkeypatch) -> None:
    """Gram built in blocks and inverted in place: the peak stays near ``fit_bytes``
    (a plain ``inv`` and ``-P / diag(P)`` held about four n x n float64 arrays)."""
    import tracemalloc

    n = 800
    m = sp.random(3000, n, density=0.005, random_state=0, format="csr", dtype=np.float32)
    x = Interactions(m, np.arange(3000), np.arange(n))
    EASE(top_k=2).fit(Interactions(m[:, :5].tocsr(), np.arange(3000), np.arange(5)))  # imports
    monkeypatch.setattr(topk_mod, "BLOCK_ENTRIES", n * 16)
    for k in (10, None):
        tracemalloc.start()
        try:
            EASE(lam=50.0, top_k=k).fit(x)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1.2 * fit_bytes(n, k)
