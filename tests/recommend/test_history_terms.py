"""The evidence split read from a component's own history row is the one its contract gives
(``linear_history`` split into one-product rows, each scored by ``history_scores``), bit for
bit; a request's cf row is scored unchecked as the checked one is."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from recommend.hybrid import evidence
from recommend.hybrid.components import CfComponent
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.item_cells import one_product_terms


def shop() -> KnowledgeGraph:
    """40 products; 0-3 and 38-39 nobody's (no model column: columns are not products)."""
    rng = np.random.default_rng(0)
    g = KnowledgeGraph()
    for p in range(40):
        g.add_node(f"product:{p}", title=f"P{p}")
    users = [f"user:{u}" for u in range(30) for _ in range(6)]
    g.add_edges("purchased", users, [f"product:{p}" for p in rng.integers(4, 38, len(users))])
    return g


def same_split(comp, users, items) -> int:
    """How many users have a split; asserts the two routes give the same bits."""
    found = 0
    for u in users:
        fast = evidence._terms(comp, u, items)
        slow = evidence._split_terms(comp, u, items)
        assert (fast is None) == (slow is None)
        if fast is None:
            continue
        found += 1
        assert np.array_equal(fast[0], slow[0])  # the products (scipy's int32 or not)
        for a, b in zip(fast[1:], slow[1:], strict=True):  # their terms and sums
            assert a.dtype == b.dtype and a.shape == b.shape
            assert a.tobytes() == b.tobytes()
    return found


@pytest.mark.parametrize(("kind", "keep"), [("itemknn", 10), ("ease", 10), ("ease", 1000)])
def test_a_cf_history_models_own_row_splits_as_its_contract(kind: str, keep: int) -> None:
    g = shop()
    params = {**HybridConfig().cf_params(), "keep": keep, "neighbours": 5, "weighting": "bm25",
              "recency_tau": 3.0}
    comp = CfComponent.fit(g, kind=kind, params=params)
    assert sp.issparse(comp.item_item()) == (keep == 10)
    assert comp.columns_[0] == 4
    items = np.array([5, 39, 17, 0, 38, 25, 5])  # three without a column, one twice
    users = list(range(g.num_nodes("user") + 2))  # and two unknown to the graph
    assert same_split(comp, users, items) == g.num_nodes("user")


def test_the_served_components_own_rows_split_as_their_contract(small_demo_artifact) -> None:
    from recommend.recommender import Recommender

    rec = Recommender.load(small_demo_artifact)
    n_users, n_items = rec.graph.num_nodes("user"), rec.graph.num_nodes("product")
    items = np.random.default_rng(0).choice(n_items, 12, replace=False)
    for name in ("cf", "session"):
        comp = rec.model.components[name]
        if name == "cf" and not comp.scores_history:
            continue
        assert same_split(comp, range(n_users + 1), items) > n_users // 2


@pytest.mark.parametrize("dense_cells", [0, 8, 10**6])  # read by search, either, dense
def test_one_product_terms_are_scipys_products_for_repeated_products_too(monkeypatch,
                                                                         dense_cells) -> None:
    import recommend.hybrid.item_cells as item_cells

    monkeypatch.setattr(item_cells, "_DENSE_CELLS_PER_ENTRY", dense_cells)
    rng = np.random.default_rng(7)
    m = sp.random(30, 30, density=0.3, format="csr", random_state=rng, dtype=np.float32)
    k = np.array([4, 9, 4, 29, 0, 9])  # a product twice, in rows apart
    w = rng.random(len(k)).astype(np.float32)
    one = sp.csr_matrix((w, k, np.arange(len(k) + 1)), shape=(len(k), 30))
    items = np.array([9, 2, 29, 9])
    for mat in (m, m.toarray(), sp.csr_matrix((30, 30), dtype=np.float32)):
        want = one @ mat
        want = (want.toarray() if sp.issparse(want) else want)[:, items]
        got = one_product_terms(k, w, mat, items)
        assert got is not None and got.tobytes() == want.tobytes()


def test_a_requests_cf_row_is_scored_as_the_checked_history() -> None:
    g = shop()
    comp = CfComponent.fit(g, kind="ease", params={**HybridConfig().cf_params(), "keep": 10})
    model, hist = comp.model, comp.history_
    assert hist.has_canonical_format
    for u in range(hist.shape[0]):
        want = model.score_history(hist[[u, (u + 1) % hist.shape[0]]])[0]
        assert comp._block(np.array([u]))[0].tobytes() == want.tobytes()
    with pytest.raises(ValueError, match="finite"):
        model.score_history(sp.csr_matrix(np.full((1, hist.shape[1]), np.nan, np.float32)))
