"""The walk's own pieces (:mod:`recommend.paths.walks`): equal to numpy's and scipy's forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths.walks import spans, unique_inverse, walk_on


@pytest.mark.parametrize("seed", range(10))
def test_unique_inverse_is_numpys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 1 + 10 ** (seed % 4), int(rng.integers(0, 300))).astype(
        np.int32 if seed % 2 else np.int64)
    got, inverse = unique_inverse(keys)
    want, want_inverse = np.unique(keys, return_inverse=True)
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert np.array_equal(inverse, want_inverse.ravel())


@pytest.mark.parametrize("seed", range(6))
def test_spans_are_the_ranges(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lo = rng.integers(0, 100, int(rng.integers(1, 9)) if seed % 2 else 1).astype(np.int32)
    hi = lo + rng.integers(0, 7, len(lo)).astype(np.int32)
    want = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
    got = spans(lo, hi)
    assert got.dtype == np.int64 and np.array_equal(got, want)
    assert np.array_equal(spans(lo, hi, hi - lo), want)
    assert spans(lo[:0], hi[:0]).dtype == np.int64 and len(spans(lo[:0], hi[:0])) == 0


@pytest.mark.parametrize("seed", range(8))
def test_a_walk_is_the_sparse_product(seed: int) -> None:
    """Each of the walk's ways (dense row, scipy product, gathered sums): the product's
    values where it is not 0, in index order."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 3000))
    m = sp.random(n, n, density=float(rng.choice([0.001, 0.01, 0.2])), random_state=seed,
                  format="csr")
    k = int(rng.integers(1, n // (2 if seed % 3 == 0 else 20) + 2))
    idx = np.sort(rng.choice(n, k, replace=False))
    val = rng.random(k)
    got_idx, got_val, width = walk_on((idx, val, n), [m])
    want = (sp.csr_matrix((val, idx, [0, k]), shape=(1, n)) @ m).toarray().ravel()
    dense = np.zeros(n)
    dense[got_idx] = got_val
    assert width == n and (np.diff(got_idx) > 0).all()
    np.testing.assert_allclose(dense, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(12))
def test_a_few_entries_sum_as_numpy_does(seed: int) -> None:
    """A step of few entries (summed in Python) and the same step through numpy's gather
    (more than :data:`_FEW` entries, by padding the row with empty rows): the same floats,
    indices and index type, zero sums kept (sparse gather) or dropped (dense row)."""
    import recommend.paths.walks as walks

    rng = np.random.default_rng(seed)
    width = int(rng.choice([5, 40, 2000]))
    n = 60
    m = sp.random(n, width, density=min(1.0, 3.0 / width), random_state=seed, format="csr")
    m.data = np.round(rng.normal(size=m.nnz), 1)  # sums that cancel to 0 exactly, some
    idx = np.sort(rng.choice(n, int(rng.integers(1, 6)), replace=False))
    val = np.round(rng.normal(size=len(idx)), 1)
    assert int((m.indptr[idx + 1] - m.indptr[idx]).sum()) <= walks._FEW
    few = walk_on((idx, val, n), [m])
    saved = walks._FEW
    walks._FEW = -1
    try:
        numpy_way = walk_on((idx, val, n), [m])
    finally:
        walks._FEW = saved
    assert few[0].dtype == numpy_way[0].dtype
    assert np.array_equal(few[0], numpy_way[0]) and np.array_equal(few[1], numpy_way[1])
    assert few[1].tobytes() == numpy_way[1].tobytes()
