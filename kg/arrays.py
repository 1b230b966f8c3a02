"""Checked reading of saved numpy arrays: an ``.npz`` from disk is untrusted input.

``np.load(allow_pickle=False)`` stops code execution but not bad values: a probe set
``x_indices[:] = 10**8`` in a saved model and scipy crashed the process (SIGSEGV) building
a CSR matrix from unchecked indices. :func:`load_arrays` opens the file only if it is a
regular file, checks each member's header against its stored size before reading it (so a
forged shape cannot ask for terabytes, nor a compressed member unpack a hundredfold), and
each expected array's dtype kind and number of dimensions. :func:`check_csr`,
:func:`check_index` and :func:`check_finite` check values before they reach scipy, an index
or a score. Every failure is an
:class:`kg.artifact_files.ArtifactError` naming the file and the array.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kg.artifact_files import ArtifactError, regular_file

#: dtype kinds by name: "int" (signed or unsigned), "float", "str" (unicode), "number",
#: "bool", "id" (numbers or strings)
MAX_RATIO = 100  # a compressed member may unpack to at most this many times its size

KINDS = {"int": "iu", "float": "f", "str": "U", "number": "iuf", "bool": "b", "id": "iufU"}


def _member_sizes(path: Path) -> dict[str, int]:
    """Each ``.npy`` member's name and the data bytes its header declares, checked against
    the bytes the zip holds for it."""
    declared = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.file_size > MAX_RATIO * info.compress_size + (1 << 20):
                raise ArtifactError(f"{path}: array {info.filename!r} unpacks to "
                                    f"{info.file_size:,} bytes from {info.compress_size:,} "
                                    "(a zip bomb?)")
            with zf.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(handle, max_header_size=10_000)
                header = handle.tell()
            if dtype.hasobject:
                raise ArtifactError(f"{path}: array {info.filename!r} holds Python objects")
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if header + nbytes != info.file_size:
                raise ArtifactError(f"{path}: array {info.filename!r} declares shape {shape} "
                                    f"({nbytes:,} bytes) but holds "
                                    f"{info.file_size - header:,} bytes")
            declared[info.filename.removesuffix(".npy")] = nbytes
    return declared


def load_arrays(path: str | os.PathLike[str],
                expected: Mapping[str, tuple[str, int]],
                ) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, read without pickle and checked.

    ``expected`` maps array names that must be present to ``(kind, ndim)``, kind a key of
    :data:`KINDS` (ndim -1: any). Other arrays are returned unchecked.

    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> np.savez(f"{folder}/a.npz", x=np.arange(3))
    >>> load_arrays(f"{folder}/a.npz", {"x": ("int", 1)})["x"]
    array([0, 1, 2])
    """
    path = Path(path)
    regular_file(path)
    try:
        _member_sizes(path)
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ArtifactError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, MemoryError) as err:
        raise ArtifactError(f"{path}: not a readable .npz ({type(err).__name__}: "
                            f"{' '.join(str(err).split())[:200]})") from None
    for name, (kind, ndim) in expected.items():
        if name not in arrays:
            raise ArtifactError(f"{path}: array {name!r} missing")
        array = arrays[name]
        if array.dtype.kind not in KINDS[kind]:
            raise ArtifactError(f"{path}: array {name!r} has dtype {array.dtype}, "
                                f"expected {kind}")
        if ndim >= 0 and array.ndim != ndim:
            raise ArtifactError(f"{path}: array {name!r} has {array.ndim} dimensions, "
                                f"expected {ndim}")
    return arrays


def check_index(values: np.ndarray, size: int, what: str) -> None:
    """ArtifactError unless every value is an integer in ``[0, size)``."""
    if values.dtype.kind not in "iu":
        raise ArtifactError(f"{what}: dtype {values.dtype}, expected integers")
    if len(values) and (values.min() < 0 or values.max() >= size):
        raise ArtifactError(f"{what}: indices out of range [0, {size}) "
                            f"(min {values.min()}, max {values.max()})")


def check_finite(values: np.ndarray, what: str) -> None:
    """ArtifactError unless every value is a finite number."""
    if values.dtype.kind not in "iufb" or not np.isfinite(values).all():
        raise ArtifactError(f"{what}: non-finite or non-numeric values (dtype {values.dtype})")


def check_csr(indptr: np.ndarray, indices: np.ndarray, n_data: int, shape: tuple[int, int],
              what: str) -> None:
    """ArtifactError unless ``(indptr, indices)`` describe a valid CSR matrix of ``shape``
    with ``n_data`` stored values: indptr starts at 0, never decreases and ends at n_data;
    every column index is in range. (scipy checks none of this and may crash.)"""
    if indptr.ndim != 1 or indices.ndim != 1 or len(indptr) != shape[0] + 1:
        raise ArtifactError(f"{what}: indptr of length {len(indptr)} for {shape[0]} rows")
    check_index(indptr, n_data + 1, f"{what} indptr")
    if indptr[0] != 0 or indptr[-1] != n_data or len(indices) != n_data:
        raise ArtifactError(f"{what}: indptr spans [{indptr[0]}, {indptr[-1]}] but "
                            f"{len(indices)} indices and {n_data} values are stored")
    if (np.diff(indptr) < 0).any():
        raise ArtifactError(f"{what}: indptr decreases")
    check_index(indices, shape[1], f"{what} indices")
