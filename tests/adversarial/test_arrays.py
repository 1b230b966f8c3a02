"""kg.arrays: the checked npz reader and the CSR/index/finite checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.arrays import check_csr, check_finite, check_index, load_arrays
from kg.artifact_files import ArtifactError


def test_load_arrays_checks_presence_kind_and_ndim(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, ints=np.arange(4), floats=np.ones((2, 2)), names=np.array(["a", "b"]))
    got = load_arrays(path, {"ints": ("int", 1), "floats": ("float", 2), "names": ("str", 1)})
    assert got["ints"].tolist() == [0, 1, 2, 3]
    with pytest.raises(ArtifactError, match=r"a.npz: array 'gone' missing"):
        load_arrays(path, {"gone": ("int", 1)})
    with pytest.raises(ArtifactError, match="has dtype float64, expected int"):
        load_arrays(path, {"floats": ("int", 2)})
    with pytest.raises(ArtifactError, match="has 2 dimensions, expected 1"):
        load_arrays(path, {"floats": ("float", 1)})


def test_load_arrays_refuses_what_is_not_a_regular_npz(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ArtifactError, match=r"not a readable \.npz"):
        load_arrays(tmp_path / "text.npz", {})
    (tmp_path / "link.npz").symlink_to("/dev/zero")
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_arrays(tmp_path / "link.npz", {})


def test_load_arrays_refuses_a_zip_bomb(tmp_path):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, zeros=np.zeros(5_000_000))
    with pytest.raises(ArtifactError, match="zip bomb"):
        load_arrays(path, {})
    np.savez_compressed(path, ones=np.arange(1000.0))
    assert load_arrays(path, {"ones": ("float", 1)})["ones"][-1] == 999.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.floats(0.05, 0.9), st.integers(0, 10**6))
def test_check_csr_accepts_every_valid_matrix(rows, cols, density, seed):
    m = sp.random(rows, cols, density=density, format="csr", random_state=seed)
    check_csr(m.indptr, m.indices, m.nnz, m.shape, "m")


@pytest.mark.parametrize("break_it, message", [
    (lambda p, i: (p, i + 100), "indices out of range"),
    (lambda p, i: (p, -i - 1), "indices out of range"),
    (lambda p, i: (p[:-1], i), "indptr of length"),
    (lambda p, i: (np.r_[p[:-1], p[-1] - 1], i), "indptr spans"),
    (lambda p, i: (p + 1, i), "m indptr: indices out of range"),
    (lambda p, i: (np.r_[p[:1], p[1:-1][::-1], p[-1:]], i), "indptr decreases"),
    (lambda p, i: (p, i.astype(np.float64)), "expected integers"),
])
def test_check_csr_refuses_broken_structure(break_it, message):
    m = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 3], [4, 5, 0], [0, 6, 0]]))
    indptr, indices = break_it(m.indptr.copy(), m.indices.copy())
    with pytest.raises(ArtifactError, match=message):
        check_csr(indptr, indices, m.nnz, m.shape, "m")


def test_index_and_finite_checks():
    check_index(np.array([0, 4]), 5, "ok")
    with pytest.raises(ArtifactError, match=r"out of range \[0, 4\)"):
        check_index(np.array([0, 4]), 4, "x")
    check_finite(np.array([1.0, -2.0]), "ok")
    for bad in (np.array([1.0, np.nan]), np.array([np.inf]), np.array(["1"])):
        with pytest.raises(ArtifactError, match="non-finite or non-numeric"):
            check_finite(bad, "w")
