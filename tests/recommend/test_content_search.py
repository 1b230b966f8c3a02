"""The content component's candidates come from FAISS search; only candidates are scored.

On a small world the index is exact (``IndexFlatIP``), so the searched ranking must equal the
dense numpy scoring it replaced; above the size threshold it is approximate at the recall
it was calibrated to.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommend import Recommender
from recommend.content import ContentIndex, normalise_rows
from recommend.content.search import SearchedScores
from recommend.hybrid.blend import Blend
from recommend.hybrid.candidates import Candidates
from recommend.hybrid.content_component import ContentComponent
from recommend.hybrid.model import HybridModel


class Dense:
    """The content component as it was: dense scores for every product, no search."""

    name = "content"

    def __init__(self, inner: ContentComponent) -> None:
        self.inner = inner

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.inner.scores(users)

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> np.ndarray:
        return self.scores(users)[:, columns]


def all_blended(model: HybridModel, content: object | None = None) -> HybridModel:
    """``model`` ranking with an equal blend of all its components (content included)."""
    comps = dict(model.components)
    if content is not None:
        comps["content"] = content
    blend = Blend(tuple(comps), np.ones(len(comps)) / len(comps))
    return HybridModel(model.graph, model.config, comps, blend)


@pytest.fixture(scope="module")
def model(small_demo_artifact: Path) -> HybridModel:
    return Recommender.load(small_demo_artifact).model


def history_users(model: HybridModel) -> np.ndarray:
    return np.flatnonzero(np.diff(model.seen_.indptr) > 0)


def same_candidates(a: Candidates, b: Candidates) -> None:
    assert a.rows.tolist() == b.rows.tolist() and a.items.tolist() == b.items.tolist()
    np.testing.assert_allclose(a.features, b.features, rtol=1e-6, atol=1e-6)
    assert a.pool.tolist() == b.pool.tolist()


def test_the_content_index_of_a_small_world_is_exact(model: HybridModel) -> None:
    assert "content" in model.components
    assert model.components["content"].index.params["kind"] == "flat"


def test_searched_candidates_and_rankings_equal_dense_scoring(model: HybridModel) -> None:
    content = model.components["content"]
    searched, dense = all_blended(model), all_blended(model, Dense(content))
    users = history_users(model)
    assert len(users) > 50
    mask = model.graph.described("product")
    allowed = searched.allowed(users, mask, exclude_seen=True)
    a, b = searched.rank(users, allowed), dense.rank(users, allowed)
    same_candidates(a.candidates, b.candidates)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)  # float32 dense
    assert searched.top_k(users, 10).tolist() == dense.top_k(users, 10).tolist()


def test_a_filter_and_a_forced_item_are_scored_alike(model: HybridModel) -> None:
    content = model.components["content"]
    searched, dense = all_blended(model), all_blended(model, Dense(content))
    users = history_users(model)[:20]
    mask = model.graph.described("product")
    allowed = searched.allowed(users, mask, exclude_seen=True)
    extra = allowed & (np.arange(len(mask)) % 3 == 0)  # a filter keeping a third
    force = np.flatnonzero(mask)[np.arange(len(users)) % int(mask.sum())]
    a = searched.rank(users, allowed, force, extra=extra)
    b = dense.rank(users, allowed, force, extra=extra)
    same_candidates(a.candidates, b.candidates)


def test_the_component_searches_the_index_not_every_product(model, monkeypatch) -> None:
    content = model.components["content"]
    ranker = all_blended(model)
    users = history_users(model)[:5]
    monkeypatch.setattr(ContentComponent, "scores", lambda *a: pytest.fail("dense scoring"))
    calls: list[int] = []
    search = ContentIndex.search

    def counted(self, queries, k, exclude=None, *, allowed=None):
        calls.append(k)
        return search(self, queries, k, exclude, allowed=allowed)

    monkeypatch.setattr(ContentIndex, "search", counted)
    ranker.rank(users, ranker.allowed(users, model.graph.described("product"), True))
    assert calls == [min(model.config.blend.candidates_per_component, len(content.index))]


def test_a_user_without_a_content_profile_gets_no_content_candidates(model, monkeypatch
                                                                      ) -> None:
    """Nor is the index searched for them (a search of every product, to find zeros)."""
    content = model.components["content"]
    n = model.graph.num_nodes("user")
    unknown = np.array([n + 3])  # past the last user: a zero vector
    cols = np.flatnonzero(model.graph.described("product"))
    s = content.candidates(unknown, cols)
    want = s.top(np.ones((1, len(cols)), bool), 10)

    def refused(*args, **kwargs):
        raise AssertionError("searched for a user without a profile")

    monkeypatch.setattr(ContentIndex, "search", refused)
    got = content.candidates(unknown, cols).top(np.ones((1, len(cols)), bool), 10)
    assert not want.any() and not got.any() and got.shape == want.shape
    two = content.candidates(np.array([n + 3, n + 5]), cols)
    assert not two.top(np.ones((2, len(cols)), bool), 10).any()


def test_above_the_threshold_candidates_come_from_a_calibrated_ann_index() -> None:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((30, 24))
    x = normalise_rows(centres[rng.integers(0, 30, 4000)] + 0.6 * rng.standard_normal((4000, 24)))
    ids = [f"product:{i}" for i in range(len(x))]
    ann = ContentIndex.build(ids, x, exact_threshold=1000, approximate="ivf",
                             target_recall=0.95, calibration_k=30)
    assert ann.params["kind"] == "ivf" and ann.params["calibrated_recall_at_30"] >= 0.95
    users = normalise_rows(x[:300] + x[300:600]).astype(np.float32)
    cols = np.arange(len(x))
    allowed = np.ones((len(users), len(x)), bool)
    allowed[:, :300] = False  # e.g. what they have seen
    searched = SearchedScores(ann, users, x, cols, cols).top(allowed, 30)
    exact = np.where(allowed, users @ x.T, -np.inf)
    truth = np.argsort(-exact, axis=1)[:, :30]
    hits = np.take_along_axis(searched, truth, axis=1).mean()
    assert searched.sum(axis=1).tolist() == [30] * len(users)
    assert not (searched & ~allowed).any()
    assert hits >= 0.9


def test_fit_honours_the_exact_threshold(model: HybridModel) -> None:
    from recommend.hybrid.encoders import LsaEncoder

    small = ContentComponent.fit(model.graph, LsaEncoder(dim=8, n_features=2**12),
                                 half_life_days=None, exact_threshold=10)
    assert small is not None and small.index.params["kind"] == "ivf"
    assert "calibrated_recall_at_10" in small.index.params  # the default depth


def test_search_with_allowed_positions_matches_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = normalise_rows(rng.standard_normal((200, 8)))
    index = ContentIndex.build([f"p:{i}" for i in range(200)], x)
    q = rng.standard_normal((6, 8))
    allowed = rng.random((6, 200)) < 0.3
    allowed[5] = False  # nothing allowed: an empty row
    got = index.search(q, 7, allowed=allowed)
    expected = np.where(allowed, normalise_rows(q) @ x.T, -np.inf)
    for r in range(5):
        assert got.indices[r].tolist() == np.argsort(-expected[r], kind="stable")[:7].tolist()
    assert got.indices[5].tolist() == [-1] * 7
    with pytest.raises(ValueError, match="not both"):
        index.search(q, 7, [set()] * 6, allowed=allowed)
    with pytest.raises(ValueError, match="allowed of shape"):
        index.search(q, 7, allowed=allowed[:, :10])


def test_config_checks_the_content_fields() -> None:
    from recommend.hybrid.config import ContentConfig, HybridConfig

    with pytest.raises(ValueError, match=r"content\.target_recall"):
        HybridConfig(content=ContentConfig(target_recall=1.5))
    with pytest.raises(ValueError, match=r"content\.image_weights"):
        HybridConfig(content=ContentConfig(image_weights=(0.0, 1.0)))
    with pytest.raises(ValueError, match=r"content\.exact_threshold"):
        HybridConfig(content=ContentConfig(exact_threshold=0))


def test_config_reads_the_index_threshold_without_importing_the_index() -> None:
    from recommend.content.index import EXACT_THRESHOLD
    from recommend.hybrid.config import HybridConfig

    assert HybridConfig().content.exact_threshold == EXACT_THRESHOLD
    code = ("import sys, recommend.hybrid.config; "
            "print(sorted(m for m in ('numpy', 'recommend.content') if m in sys.modules))")
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pair_scores_are_the_same_taken_in_pieces(monkeypatch):
    import recommend.content.search as search

    rng = np.random.default_rng(3)
    items = normalise_rows(rng.standard_normal((50, 8)).astype(np.float32))
    users = normalise_rows(rng.standard_normal((4, 8)).astype(np.float32))
    index = ContentIndex.build([f"product:{i}" for i in range(50)], items)
    scores = SearchedScores(index, users, items, np.arange(50), np.arange(50))
    rows, cols = rng.integers(0, 4, 37), rng.integers(0, 50, 37)
    want = np.einsum("ij,ij->i", users[rows].astype(np.float64),
                     items[cols].astype(np.float64))
    monkeypatch.setattr(search, "PAIRS_AT_ONCE", 5)  # 8 pieces, the last one short
    np.testing.assert_array_equal(scores.at(rows, cols), want)
    assert scores.at(rows[:0], cols[:0]).shape == (0,)


def test_one_users_pair_scores_are_kept_and_the_same_as_made_afresh():
    rng = np.random.default_rng(5)
    items = normalise_rows(rng.standard_normal((60, 384)).astype(np.float32))
    user = normalise_rows(rng.standard_normal((1, 384)).astype(np.float32))
    index = ContentIndex.build([f"product:{i}" for i in range(60)], items)
    columns = rng.permutation(60)[:40]

    def scores() -> SearchedScores:
        return SearchedScores(index, user, items, np.arange(60), columns)

    kept = scores()
    first = rng.integers(0, 40, 15)  # with repeats
    every = np.arange(40)
    a = kept.at(np.zeros(15, np.int64), first)
    b = kept.at(np.zeros(40, np.int64), every)  # some kept from the first call, some new
    fresh = scores().at(np.zeros(40, np.int64), every)
    assert b.tobytes() == fresh.tobytes()
    assert a.tobytes() == fresh[first].tobytes()
    for c in rng.permutation(40)[:10].tolist():  # one at a time, against the batch's
        assert scores().at(np.zeros(1, np.int64), np.array([c])).tobytes() == fresh[[c]].tobytes()
    want = np.einsum("ij,ij->i", np.broadcast_to(user[0].astype(np.float64), (40, 384)),
                     items[columns].astype(np.float64))
    np.testing.assert_array_equal(fresh, want)


def test_the_table_holds_as_many_of_the_most_seen_products_as_fit(model, monkeypatch):
    """Too many users x products for the whole table: its columns are the most seen
    products (ties: lowest index first), as many as :data:`TABLE_CELLS` holds, not only
    popularity's candidates; each user's tabled scores are what a request computes."""
    import recommend.hybrid.content_shortlist as shortlist
    from kg.interactions import seen_matrix
    from recommend.hybrid.content_component import LIST_MARGIN

    comp = model.components["content"]
    n_users, n_products = comp.user_vectors_.shape[0], len(comp.columns_)
    fit = len(comp.index) - 3  # all but 3 products per user: more than popularity's
    assert fit > 1 + LIST_MARGIN
    monkeypatch.setattr(shortlist, "TABLE_CELLS", fit * n_users)
    comp.list_users(model.graph, 1)
    lists = comp.shortlists_
    counts = np.bincount(seen_matrix(model.graph).tocsr().indices, minlength=n_products)
    most = np.argsort(-counts, kind="stable")[:fit]
    want = comp.columns_[most]
    assert lists.table.shape == (n_users, int((want >= 0).sum()))
    assert np.flatnonzero(lists.slots >= 0).tolist() == sorted(want[want >= 0].tolist())
    vectors, cols = comp.index.vectors(), np.arange(len(comp.index))
    u = int(history_users(model)[0])
    rows = np.zeros(len(comp.index), np.int64)
    tabled = SearchedScores(comp.index, lists.users[u][None], vectors, cols, cols, True,
                            row=lists.table_row(u, lists.users[u]))
    fresh = SearchedScores(comp.index, lists.users[u][None], vectors, cols, cols, True)
    assert tabled.at(rows, cols).tobytes() == fresh.at(rows, cols).tobytes()
