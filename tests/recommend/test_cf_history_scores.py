"""The cf component scores a history at a few products as its model scores it everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from recommend.hybrid.components import CfComponent
from recommend.hybrid.config import HybridConfig


def shop(seed: int = 0) -> KnowledgeGraph:
    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    for p in range(40):
        g.add_node(f"product:{p}", title=f"P{p}")
    users = [f"user:{u}" for u in range(30) for _ in range(6)]
    g.add_edges("purchased", users, [f"product:{p}" for p in rng.integers(0, 36, len(users))])
    return g  # products 36-39: nobody's, no model column


@pytest.mark.parametrize("kind", ["itemknn", "ease"])
def test_history_scores_at_a_few_products_are_the_models_own(kind: str) -> None:
    g = shop()
    params = {**HybridConfig().cf_params(), "keep": 10, "neighbours": 5, "weighting": "bm25"}
    comp = CfComponent.fit(g, kind=kind, params=params)
    rng = np.random.default_rng(1)
    dense = (rng.random((12, 40)) < 0.2) * rng.random((12, 40)).astype(np.float32)
    histories = sp.csr_matrix(dense)
    items = np.array([3, 39, 17, 0, 38, 25])  # two without a column
    got = comp.history_scores(histories, items)
    # what the model's score_history gives over every column, read at the items
    cols = comp.col_of_[items]
    mapped = sp.csr_matrix(dense[:, comp.columns_])
    want = np.zeros_like(got)
    want[:, cols >= 0] = comp.model.score_history(mapped)[:, cols[cols >= 0]]
    assert np.array_equal(got, want)  # bit for bit: the same sums in the same order
    assert (got[:, [1, 4]] == 0).all() and got.any()


@pytest.mark.parametrize("kind", ["itemknn", "ease", "als"])
def test_ratings_at_or_below_zero_are_no_interaction(kind: str) -> None:
    """The contract allows any rating value; a pair rated -2 (or 0) fits, scores finite and is
    not a column of the model (a build crashed on log1p(-2) = NaN)."""
    g = shop()
    g.add_node("product:40", title="Disliked")
    g.add_edges("rated", ["user:0", "user:1", "user:2"],
                ["product:40", "product:40", "product:3"], weight=[-2.0, 0.0, -5.0])
    x, columns = CfComponent.interactions(g)
    assert np.isfinite(x.matrix.data).all() and (x.matrix.data > 0).all()
    assert 40 not in columns
    comp = CfComponent.fit(g, kind=kind, params={**HybridConfig().cf_params(), "keep": 10,
                                                 "neighbours": 5, "weighting": "bm25"})
    assert np.isfinite(comp.history_scores(sp.csr_matrix(np.ones((1, 41), np.float32)),
                                           np.arange(41))).all()
