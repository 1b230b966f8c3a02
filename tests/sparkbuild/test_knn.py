"""Item-kNN similarity by Spark joins equals the in-process pruned product."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from cf.data import Interactions
from cf.item_knn import NeighbourItemKNN, item_weights, neighbour_similarity, similarity_backend
from sparkbuild.knn import similarity_by_joins

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")


def _counts(seed: int = 3) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    m = sp.random(60, 40, density=0.15, random_state=rng, format="csr")
    m.data = rng.uniform(1.0, 5.0, m.nnz)  # continuous values: no ties at the top-K cut
    return m


def test_similarity_by_joins_equals_the_in_process_product(spark) -> None:
    w = item_weights(_counts(), "bm25")
    want = neighbour_similarity(w, 7)
    got = similarity_by_joins(spark, w, 7)
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.abs((got - want).toarray()).max() < 1e-5
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)


def test_a_fit_inside_the_backend_block_uses_spark(spark) -> None:
    calls = []

    def counted(w: sp.csr_matrix, k: int) -> sp.csr_matrix:
        calls.append(k)
        return similarity_by_joins(spark, w, k)

    x = Interactions(_counts(5).astype(np.float32), np.arange(60), np.arange(40))
    with similarity_backend(counted):
        inside = NeighbourItemKNN(weighting="cosine", top_k=5).fit(x)
    outside = NeighbourItemKNN(weighting="cosine", top_k=5).fit(x)
    assert calls == [5]
    assert np.abs((inside.similarity_ - outside.similarity_).toarray()).max() < 1e-5
