"""A FAISS cosine index over item vectors, its kind chosen by size, saved without pickle.

Vectors are L2-normalised on the way in, so inner product is cosine similarity. ``kind="auto"``
picks exact search (``IndexFlatIP``) below ``exact_threshold`` items: it is fast enough there
(1,000 top-10 queries over 10k items take ~60 ms on 2 cores) and has perfect recall. Above it,
an approximate index: IVF-Flat by default. Measured by ``bench/content_index.py`` at 100k x 384
embedding-like vectors on 2 busy cores: IVF (632 lists, nprobe 16) built in 30 s and answered
1,330 queries/s at recall@10 0.987; HNSW32 took 44 s and needed efSearch 2048 for 0.975, at
96 queries/s, slower than exact search (140 queries/s).

An approximate index is *calibrated* when built: its search breadth (IVF ``nprobe`` or HNSW
``efSearch``) is doubled until recall@k against exact search, on sampled queries that mix two
random items (as user profiles do), reaches ``target_recall``; k is ``calibration_k`` (10 by
default; the hybrid's content component asks for its deepest candidate list). The chosen
setting and the recall reached (``calibrated_recall_at_<k>``) are saved.

>>> import numpy as np
>>> idx = ContentIndex.build(["product:a", "product:b"], np.array([[1.0, 0.0], [0.6, 0.8]]))
>>> idx.search(np.array([[1.0, 0.1]]), k=1).ids
[['product:a']]
"""

from __future__ import annotations

import json
import math
import os
import warnings
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from kg.atomic import atomic_write_bytes, atomic_write_json
from kg.version import shopgraph_version
from recommend.exact_search import EXACT_THRESHOLD

if TYPE_CHECKING:
    import faiss

__all__ = ["ContentIndex", "IndexKind", "SearchResult", "normalise_rows"]

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
INDEX_FILE = "content.faiss"
META_FILE = "content_index.json"
FORMAT_VERSION = 1
#: The approximate kind ``auto`` picks at or above ``EXACT_THRESHOLD`` (see the module doc).
DEFAULT_APPROXIMATE: Literal["hnsw", "ivf"] = "ivf"


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as C-contiguous float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0), dtype=np.float32)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Top-k per query: ``indices``/``scores`` are (n_queries, k); -1 / -inf pad short rows.

    A row is short when exclusions leave fewer than k items, or the query was a zero vector
    (a user with no content profile: no candidates rather than arbitrary ones).
    """

    indices: np.ndarray
    scores: np.ndarray
    ids: list[list[str]]


class ContentIndex:
    """Item ids and their vectors in a FAISS inner-product index; build with :meth:`build`."""

    def __init__(self, ids: list[str], index: faiss.Index, params: dict[str, Any]) -> None:
        if index.ntotal != len(ids):
            raise ValueError(f"index holds {index.ntotal} vectors for {len(ids)} ids")
        self.ids = ids
        self.index = index
        self.params = params
        self._positions = {item: i for i, item in enumerate(ids)}
        if len(self._positions) != len(ids):
            raise ValueError("duplicate ids in the content index")
        #: the index this one was copied from (weakly) and its size then (:meth:`copy`)
        self.source: tuple[weakref.ref[ContentIndex], int] | None = None

    # ----- building -----
    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        *,
        kind: IndexKind = "auto",
        exact_threshold: int = EXACT_THRESHOLD,
        approximate: Literal["hnsw", "ivf"] = DEFAULT_APPROXIMATE,
        target_recall: float = 0.95,
        hnsw_m: int = 32,
        hnsw_ef_construction: int = 40,
        ivf_nlist: int | None = None,
        ivf_train_iterations: int = 10,
        ivf_train_points_per_list: int = 64,
        calibration_queries: int = 1000,
        calibration_k: int = 10,
        seed: int = 0,
    ) -> ContentIndex:
        """An index over ``vectors[i]`` for ``ids[i]`` (rows are L2-normalised here).

        ``kind="auto"``: exact below ``exact_threshold`` items, else ``approximate``.
        ``ivf_nlist`` defaults to ``2·√n`` lists, trained by ``ivf_train_iterations`` rounds
        of k-means on at most ``ivf_train_points_per_list · nlist`` sampled rows.
        Approximate kinds are calibrated to ``target_recall`` at depth ``calibration_k`` (see
        the module docstring).
        """
        import faiss

        ids = [str(i) for i in ids]
        x = _checked(ids, vectors)
        n, dim = x.shape
        if approximate not in ("hnsw", "ivf"):
            raise ValueError(f"approximate must be hnsw or ivf, not {approximate!r}")
        chosen = kind
        if kind == "auto":
            chosen = "flat" if n < exact_threshold else approximate
        params: dict[str, Any] = {"kind": chosen, "dim": dim}
        if chosen == "flat":
            index = faiss.IndexFlatIP(dim)
        elif chosen == "hnsw":
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = hnsw_ef_construction
            params.update(hnsw_m=hnsw_m, hnsw_ef_construction=hnsw_ef_construction)
        elif chosen == "ivf":
            nlist = ivf_nlist or max(1, min(int(2 * math.sqrt(n)), n // 39))
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.seed = seed
            index.cp.spherical = True  # unit centroids suit inner-product search
            index.cp.niter = ivf_train_iterations
            # k-means on a sample: training cost is what makes IVF slow to build
            index.cp.max_points_per_centroid = ivf_train_points_per_list
            index.train(x)
            params.update(ivf_nlist=nlist)
        else:
            raise ValueError(f"kind must be auto, flat, hnsw or ivf, not {kind!r}")
        index.add(x)
        if chosen == "ivf":
            index.make_direct_map()  # lets vector(id) reconstruct rows
        built = cls(ids, index, params)
        if chosen != "flat":
            built._calibrate(x, target_recall, calibration_queries, seed, calibration_k)
        return built

    def _calibrate(self, x: np.ndarray, target: float, n_queries: int, seed: int,
                   depth: int = 10) -> None:
        """Widen the search until sampled recall@``depth`` vs exact reaches ``target``.

        "Reaches" is judged on the lower bound mean - 3·standard error of the per-query recall,
        so the target holds for unseen queries too, not just for this sample.
        """
        import faiss

        rng = np.random.default_rng(seed)
        n = len(x)
        a, b = rng.integers(0, n, size=(2, n_queries))
        w = rng.uniform(0.0, 1.0, size=(n_queries, 1)).astype(np.float32)
        queries = normalise_rows(w * x[a] + (1 - w) * x[b])
        k = max(1, min(depth, n))
        _, truth = faiss.knn(queries, x, k, metric=faiss.METRIC_INNER_PRODUCT)
        name = "nprobe" if self.params["kind"] == "ivf" else "ef_search"
        limit = self.params["ivf_nlist"] if name == "nprobe" else max(n, 16)
        value = 1 if name == "nprobe" else 16
        while True:
            self._set_breadth(name, value)
            _, found = self.index.search(queries, k)
            per_query = _recall(found, truth)
            bound = per_query.mean() - 3 * per_query.std() / np.sqrt(len(per_query))
            if bound >= target or value >= limit:
                break
            value = min(2 * value, limit)
        self.params.update(
            {name: value, f"calibrated_recall_at_{depth}": round(float(per_query.mean()), 4)}
        )

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Append new items without a rebuild (an IVF index keeps its trained lists).

        Calibration is not redone: rebuild when the catalogue has grown a lot.
        """
        new = [str(i) for i in ids]
        x = _checked(new, vectors)
        if x.shape[1] != self.dim:
            raise ValueError(f"vectors of dimension {x.shape[1]}, the index has {self.dim}")
        clash = [i for i in new if i in self._positions]
        if clash or len(set(new)) != len(new):
            raise ValueError(f"ids already in the content index or repeated, e.g. {clash[:3]}")
        self.index.add(x)
        for item in new:
            self._positions[item] = len(self.ids)
            self.ids.append(item)

    def copy(self) -> ContentIndex:
        """An independent copy (FAISS index cloned): :meth:`add` to it leaves this one as is."""
        import faiss

        copied = ContentIndex(list(self.ids), faiss.clone_index(self.index), dict(self.params))
        copied.source = (weakref.ref(self), len(self))
        return copied

    def _set_breadth(self, name: str, value: int) -> None:
        if name == "nprobe":
            self.index.nprobe = int(value)
        else:
            self.index.hnsw.efSearch = int(value)

    # ----- queries -----
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def position(self, item_id: str) -> int:
        """The row of ``item_id``; KeyError naming it if absent."""
        try:
            return self._positions[item_id]
        except KeyError:
            raise KeyError(f"{item_id!r} is not in the content index") from None

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._positions

    def vector(self, item_id: str) -> np.ndarray:
        """The stored (unit) vector of ``item_id``."""
        return self.index.reconstruct(self.position(item_id))

    def vectors(self) -> np.ndarray:
        """All stored vectors, (n_items, dim) float32, in ``ids`` order."""
        return self.index.reconstruct_n(0, len(self.ids))

    def vectors_at(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors at rows ``positions`` (what :meth:`vectors` holds there), without
        reconstructing the others."""
        positions = np.ascontiguousarray(positions, dtype=np.int64)
        if len(positions) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.index.reconstruct_batch(positions)

    def search(
        self, queries: np.ndarray, k: int, exclude: Sequence[set[int]] | None = None, *,
        allowed: np.ndarray | None = None,
    ) -> SearchResult:
        """The ``k`` items of highest cosine to each query row, best first.

        ``exclude[q]`` holds item positions never returned for query ``q`` (e.g. what the
        user already bought, or the query item itself); or else ``allowed`` (n_queries x
        n_items, boolean) says which positions each query may get. The index is asked for
        ``k`` plus the most positions any row rules out, so exact search loses nothing.
        """
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"queries of shape {q.shape}: need (n, {self.dim})")
        if exclude is not None and len(exclude) != len(q):
            raise ValueError(f"{len(exclude)} exclusion sets for {len(q)} queries")
        if k < 1:
            raise ValueError(f"k must be at least 1, not {k}")
        if exclude is not None and allowed is not None:
            raise ValueError("give exclude or allowed, not both")
        n_excl = max((len(e) for e in exclude), default=0) if exclude is not None else 0
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (len(q), len(self.ids)):
                raise ValueError(f"allowed of shape {allowed.shape}: need "
                                 f"({len(q)}, {len(self.ids)})")
            n_excl = int((~allowed).sum(axis=1).max(initial=0))
        fetch = min(k + n_excl, len(self.ids))
        qn = normalise_rows(q)
        if fetch == 0:  # an empty index
            none = np.full((len(q), k), -1, dtype=np.int64)
            return SearchResult(none, np.full((len(q), k), -np.inf, np.float32), [[]] * len(q))
        scores, found = self.index.search(qn, fetch)
        keep = found >= 0
        keep &= np.linalg.norm(qn, axis=1, keepdims=True) > 0
        if n_excl:
            if allowed is not None:
                keep &= np.take_along_axis(allowed, np.maximum(found, 0), axis=1)
            else:
                keep &= ~_excluded(found, exclude, len(self.ids))  # type: ignore[arg-type]
        # first k kept per row, in the index's (best-first) order
        order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
        indices = np.take_along_axis(found, order, axis=1)
        top = np.take_along_axis(scores, order, axis=1)
        ok = np.take_along_axis(keep, order, axis=1)
        indices = np.where(ok, indices, -1).astype(np.int64)
        top = np.where(ok, top, -np.inf).astype(np.float32)
        if indices.shape[1] < k:  # fewer items than k
            pad = k - indices.shape[1]
            indices = np.pad(indices, ((0, 0), (0, pad)), constant_values=-1)
            top = np.pad(top, ((0, 0), (0, pad)), constant_values=-np.inf)
        ids = [[self.ids[i] for i in row if i >= 0] for row in indices.tolist()]
        return SearchResult(indices, top, ids)

    def similar(self, item_ids: Sequence[str], k: int) -> SearchResult:
        """The ``k`` items most like each of ``item_ids`` (the item itself excluded)."""
        pos = [self.position(i) for i in item_ids]
        queries = (
            np.stack([self.index.reconstruct(p) for p in pos])
            if pos
            else np.zeros((0, self.dim), np.float32)
        )
        return self.search(queries, k, exclude=[{p} for p in pos])

    # ----- persistence -----
    def save(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Write ``content.faiss`` + ``content_index.json`` into ``folder`` (each atomically).

        Wrap in :func:`kg.atomic.atomic_dir` to swap a whole artifact at once.
        """
        import faiss

        out = Path(folder)
        atomic_write_bytes(out / INDEX_FILE, faiss.serialize_index(self.index).tobytes())
        meta = {
            "format": FORMAT_VERSION,
            "shopgraph_version": shopgraph_version(),
            "params": self.params,
            "ids": self.ids,
        }
        atomic_write_json(out / META_FILE, meta)
        return [out / INDEX_FILE, out / META_FILE]

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ContentIndex:
        """Read what :meth:`save` wrote; a mismatch between the two files is an error."""
        import faiss

        folder = Path(folder)
        meta_path = folder / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"{meta_path}: content index format {meta.get('format')!r}, "
                f"expected {FORMAT_VERSION}"
            )
        if meta.get("shopgraph_version") != shopgraph_version():
            warnings.warn(
                f"{meta_path}: saved by shopgraph {meta.get('shopgraph_version')}, "
                f"loading with {shopgraph_version()}",
                stacklevel=2,
            )
        raw = np.fromfile(folder / INDEX_FILE, dtype=np.uint8)
        index = faiss.deserialize_index(raw)
        params = dict(meta["params"])
        if index.ntotal != len(meta["ids"]):
            raise ValueError(
                f"{folder}: {INDEX_FILE} holds {index.ntotal} vectors but {META_FILE} "
                f"lists {len(meta['ids'])} ids (files from different saves?)"
            )
        loaded = cls(list(meta["ids"]), index, params)
        for name in ("nprobe", "ef_search"):
            if name in params:
                loaded._set_breadth(name, params[name])
        return loaded


def _checked(ids: list[str], vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as unit float32 rows; ValueError naming the first bad row's id."""
    x = np.asarray(vectors)
    if x.ndim != 2 or x.shape[0] != len(ids):
        raise ValueError(f"vectors of shape {x.shape} for {len(ids)} ids: need (n_ids, dim)")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"vector of {ids[bad]!r} (row {bad}) has NaN or infinite values")
    zero = np.flatnonzero(np.linalg.norm(x, axis=1) == 0)
    if zero.size:
        raise ValueError(f"vector of {ids[zero[0]]!r} (row {zero[0]}) is zero: cannot index")
    return normalise_rows(x)


def _recall(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per row: the share of ``truth``'s row that appears in the same row of ``found``."""
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=1).sum(axis=1)
    return hits / max(truth.shape[1], 1)


def _excluded(found: np.ndarray, exclude: Sequence[set[int]], n_items: int) -> np.ndarray:
    """Boolean mask of ``found`` entries listed in their row's exclusion set."""
    rows = np.repeat(np.arange(len(exclude), dtype=np.int64), [len(e) for e in exclude])
    cols = np.fromiter((c for e in exclude for c in e), dtype=np.int64, count=len(rows))
    codes = rows * (n_items + 1) + cols
    query_rows = np.arange(len(found), dtype=np.int64)[:, None]
    return np.isin(query_rows * (n_items + 1) + found, codes)
