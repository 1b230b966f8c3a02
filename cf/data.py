"""Interactions: the one input every model in :mod:`cf` fits on.

A sparse user × item matrix of values (ratings, or implicit weights), the optional
timestamp of each cell (same sparsity pattern), and the raw user and item ids with
their index maps. Built from arrays (:meth:`Interactions.from_arrays`) or from
:class:`kg.records.Event` records (:meth:`Interactions.from_events`).

>>> x = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"], [5.0, 3.0, 4.0])
>>> x.shape, x.user_index(["b", "zz"]).tolist()
((2, 2), [1, -1])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from kg.records import Event

#: Default implicit weight of each event kind (a purchase says more than a view).
KIND_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 1.0,
    "like": 2.0,
    "comment": 2.0,
    "share": 2.0,
    "cart": 3.0,
    "purchase": 4.0,
    "rate": 1.0,
}


def _index_map(ids: np.ndarray) -> dict[object, int]:
    return {key: pos for pos, key in enumerate(ids.tolist())}


@dataclass(frozen=True)
class Interactions:
    """A user × item CSR matrix of finite values, optional timestamps, and id maps.

    ``timestamps`` (if given) is a CSR matrix with exactly the sparsity of ``matrix``.
    ``user_ids[u]`` is the raw id of row ``u``; ``item_ids[i]`` of column ``i``.
    """

    matrix: sp.csr_matrix
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamps: sp.csr_matrix | None = None
    _user_map: dict[object, int] = field(init=False, repr=False, compare=False)
    _item_map: dict[object, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.matrix.shape != (len(self.user_ids), len(self.item_ids)):
            raise ValueError(
                f"matrix shape {self.matrix.shape} != ({len(self.user_ids)}, {len(self.item_ids)})"
            )
        if not np.all(np.isfinite(self.matrix.data)):
            raise ValueError("interaction values must be finite (NaN/inf found)")
        object.__setattr__(self, "_user_map", _index_map(self.user_ids))
        object.__setattr__(self, "_item_map", _index_map(self.item_ids))

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape  # type: ignore[return-value]

    @property
    def n_users(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_items(self) -> int:
        return self.matrix.shape[1]

    def user_index(self, users: Iterable[object]) -> np.ndarray:
        """Row index of each raw user id, -1 for an id never seen."""
        return np.fromiter((self._user_map.get(u, -1) for u in users), dtype=np.int64)

    def item_index(self, items: Iterable[object]) -> np.ndarray:
        """Column index of each raw item id, -1 for an id never seen."""
        return np.fromiter((self._item_map.get(i, -1) for i in items), dtype=np.int64)

    def binary(self) -> sp.csr_matrix:
        """The 0/1 matrix of observed cells (float32)."""
        out = self.matrix.copy().astype(np.float32)
        out.data[:] = 1.0
        return out

    def ordered_items(self, u: int) -> np.ndarray:
        """Item indices of user ``u`` in time order (ties and no timestamps: by item index)."""
        lo, hi = self.matrix.indptr[u], self.matrix.indptr[u + 1]
        items = self.matrix.indices[lo:hi]
        if self.timestamps is None:
            return np.sort(items)
        ts = self.timestamps.data[lo:hi]
        return items[np.lexsort((items, ts))]

    @classmethod
    def from_arrays(
        cls,
        users: Sequence[object] | np.ndarray,
        items: Sequence[object] | np.ndarray,
        values: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        *,
        user_ids: Sequence[object] | np.ndarray | None = None,
        item_ids: Sequence[object] | np.ndarray | None = None,
        duplicates: Literal["error", "sum", "last"] = "error",
    ) -> Interactions:
        """Build from parallel arrays of raw ids (values default to 1).

        ``user_ids`` / ``item_ids`` fix the id universe (and its order); ids outside it are
        an error. Otherwise the sorted distinct ids are used. A NaN/inf value or timestamp
        is rejected with the row that holds it; a repeated (user, item) pair is an error
        unless ``duplicates`` says to sum or keep the last one.
        """
        users_a, items_a = np.asarray(users), np.asarray(items)
        n = len(users_a)
        if len(items_a) != n:
            raise ValueError(f"users ({n}) and items ({len(items_a)}) differ in length")
        vals = np.ones(n, np.float64) if values is None else np.asarray(values, np.float64)
        _check_finite(vals, n, "value")
        ts = None if timestamps is None else np.asarray(timestamps, np.float64)
        if ts is not None:
            _check_finite(ts, n, "timestamp")
        uids = np.unique(users_a) if user_ids is None else np.asarray(user_ids)
        iids = np.unique(items_a) if item_ids is None else np.asarray(item_ids)
        rows = _positions(uids, users_a, "user")
        cols = _positions(iids, items_a, "item")
        key = rows * len(iids) + cols
        order = np.argsort(key, kind="stable")
        key, rows, cols, vals = key[order], rows[order], cols[order], vals[order]
        ts = None if ts is None else ts[order]
        dup = np.flatnonzero(key[1:] == key[:-1])
        if dup.size:
            if duplicates == "error":
                first = order[dup[0] + 1]
                raise ValueError(
                    f"row {first}: repeated (user, item) pair ({users_a[first].item()!r}, "
                    f"{items_a[first].item()!r}); pass duplicates='sum' or 'last'"
                )
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            ends = np.r_[starts[1:], len(key)] - 1
            vals = np.add.reduceat(vals, starts) if duplicates == "sum" else vals[ends]
            ts = None if ts is None else ts[ends]
            rows, cols = rows[starts], cols[starts]
        shape = (len(uids), len(iids))
        mat = sp.csr_matrix((vals.astype(np.float32), (rows, cols)), shape=shape)
        tmat = None if ts is None else sp.csr_matrix((ts, (rows, cols)), shape=shape)
        return cls(mat, uids, iids, tmat)

    @classmethod
    def from_events(
        cls,
        events: Iterable[Event],
        *,
        kind_weights: dict[str, float] | None = None,
        ratings: bool = False,
        item_ids: Sequence[object] | None = None,
    ) -> Interactions:
        """Build from :class:`kg.records.Event` records on products.

        With ``ratings=True`` only ``rate`` events with a value are used (last one wins);
        otherwise each event adds its kind's weight (``KIND_WEIGHTS``) to the cell.
        """
        weights = KIND_WEIGHTS if kind_weights is None else kind_weights
        us, its, vs, ts = [], [], [], []
        for ev in events:
            if ev.target_type != "product":
                continue
            if ratings:
                if ev.kind != "rate" or ev.value is None:
                    continue
                value = ev.value
            else:
                value = weights.get(ev.kind, 0.0)
                if value == 0.0:
                    continue
            us.append(ev.user)
            its.append(ev.target)
            vs.append(value)
            ts.append(np.nan if ev.ts is None else ev.ts)
        ts_arr = np.asarray(ts, np.float64)
        has_ts = bool(ts_arr.size) and not np.isnan(ts_arr).any()
        return cls.from_arrays(
            np.asarray(us, dtype=str),
            np.asarray(its, dtype=str),
            vs,
            ts_arr if has_ts else None,
            item_ids=item_ids,
            duplicates="last" if ratings else "sum",
        )


def _check_finite(arr: np.ndarray, n: int, what: str) -> None:
    if arr.shape != (n,):
        raise ValueError(f"{what}s have shape {arr.shape}, expected ({n},)")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(
            f"row {bad[0]}: {what} {arr[bad[0]].item()!r} is not finite ({bad.size} rows)"
        )


def _positions(universe: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    order = np.argsort(universe, kind="stable")
    pos = np.searchsorted(universe, ids, sorter=order)
    pos = np.minimum(pos, len(universe) - 1) if len(universe) else pos
    found = order[pos] if len(universe) else pos
    bad = np.flatnonzero(universe[found] != ids) if len(universe) else np.arange(len(ids))
    if bad.size:
        raise ValueError(f"row {bad[0]}: {what} id {ids[bad[0]].item()!r} is not in the given ids")
    return found.astype(np.int64)
