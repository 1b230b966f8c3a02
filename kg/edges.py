"""Columnar edge storage: one :class:`EdgeBlock` per (source type, relation, destination type).

A block holds numpy columns ``src`` and ``dst`` (node indices within their types),
``weight`` (float32), ``ts`` (float64 unix seconds, NaN when absent) and optional named
float64 columns (e.g. a mention's ``start``/``end``/``sentiment``). Appends are buffered as
chunks and concatenated on first read, so adding edges one batch at a time stays linear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

BASE_COLUMNS: tuple[str, ...] = ("src", "dst", "weight", "ts")
_DTYPES = {"src": np.int64, "dst": np.int64, "weight": np.float32, "ts": np.float64}


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge between typed node ids; ``ts`` is None when unknown."""

    src: str
    relation: str
    dst: str
    weight: float = 1.0
    ts: float | None = None
    columns: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EdgeColumns:
    """A block's consolidated columns (read-only views: do not modify)."""

    src_type: str
    relation: str
    dst_type: str
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    ts: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.src)


class EdgeBlock:
    """The edges of one (source type, relation, destination type)."""

    def __init__(self, src_type: str, relation: str, dst_type: str) -> None:
        self.src_type, self.relation, self.dst_type = src_type, relation, dst_type
        self.version = 0  # bumped on every append; caches compare it
        self._chunks: list[dict[str, np.ndarray]] = []
        self._data: dict[str, np.ndarray] = {c: np.empty(0, _DTYPES[c]) for c in BASE_COLUMNS}
        self._extra: list[str] = []
        self._sorted: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._data["src"]) + sum(len(c["src"]) for c in self._chunks)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.src_type, self.relation, self.dst_type)

    def append(
        self,
        src: np.ndarray,
        dst: np.ndarray,
        weight: np.ndarray,
        ts: np.ndarray,
        columns: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """Buffer a batch of edges (equal-length arrays)."""
        chunk = {
            "src": np.asarray(src, np.int64),
            "dst": np.asarray(dst, np.int64),
            "weight": np.asarray(weight, np.float32),
            "ts": np.asarray(ts, np.float64),
        }
        for name, values in (columns or {}).items():
            if name in BASE_COLUMNS or not name.isidentifier():
                raise ValueError(f"edge column name {name!r} must be an identifier, not a base one")
            chunk[name] = np.asarray(values, np.float64)
            if name not in self._extra:
                self._extra.append(name)
        lengths = {len(v) for v in chunk.values()}
        if len(lengths) != 1:
            raise ValueError(f"{self.relation}: edge columns of unequal lengths {sorted(lengths)}")
        self._chunks.append(chunk)
        self.version += 1

    def columns(self) -> EdgeColumns:
        """The consolidated columns (concatenating buffered chunks once)."""
        if self._chunks:
            parts = [self._data, *self._chunks]
            merged = {}
            for name in (*BASE_COLUMNS, *self._extra):
                merged[name] = np.concatenate(
                    [p[name] if name in p else np.full(len(p["src"]), np.nan) for p in parts]
                )
            self._data, self._chunks = merged, []
        d = self._data
        extra = {name: d[name] for name in self._extra}
        return EdgeColumns(
            self.src_type,
            self.relation,
            self.dst_type,
            d["src"],
            d["dst"],
            d["weight"],
            d["ts"],
            extra,
        )

    def positions(self, side: str, index: int) -> np.ndarray:
        """Edge positions whose ``side`` ("src" or "dst") endpoint is ``index``."""
        cached = self._sorted.get(side)
        if cached is None or cached[0] != self.version:
            keys = getattr(self.columns(), side)
            order = np.argsort(keys, kind="stable")
            cached = (self.version, order, keys[order])
            self._sorted[side] = cached
        _, order, sorted_keys = cached
        lo, hi = np.searchsorted(sorted_keys, [index, index + 1])
        return order[lo:hi]
