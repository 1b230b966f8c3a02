"""The evaluation protocols of ../shared/bench/PROTOCOL.md on raw MovieLens ``u.data``.

Plain functions: read the rows in canonical order, cut a split, fingerprint it. Every
model (ours and peers) is evaluated on the same :class:`Split`, so figures compare.

- rating: random 80/20, ``default_rng(42).permutation(n)[: n // 5]`` are test;
- ranking: per user, rows by (timestamp, item_id), the last ``ceil(round(0.2 n_u, 9))``
  (at least one) are test;
- leave-last-out: each user's latest row by (timestamp, item_id).

A validation split for tuning is the same recipe applied to the train part only
(:func:`temporal_split` on ``split.train``).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATING_FINGERPRINT = "dad88554955273bf"
RANKING_FINGERPRINT = "ff1ce4cbab41fea5"
LEAVE_LAST_OUT_FINGERPRINT = "49f3847e0095c2e0"


@dataclass(frozen=True)
class Rows:
    """Parallel arrays of (user, item, rating, timestamp) rows with raw integer ids."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    ts: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def take(self, index: np.ndarray) -> Rows:
        """The rows at ``index`` (positions or a boolean mask)."""
        return Rows(self.user[index], self.item[index], self.rating[index], self.ts[index])


@dataclass(frozen=True)
class Split:
    """A train/test cut of :class:`Rows`, with its name and fingerprint."""

    name: str
    train: Rows
    test: Rows

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.test)


def read_udata(path: str | os.PathLike[str]) -> Rows:
    """Read MovieLens ``u.data`` (tab separated) in canonical (user_id, item_id) order.

    A malformed or non-finite line is an error naming the file and line.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "u.data"
    raw = np.loadtxt(path, dtype=np.float64, delimiter="\t", ndmin=2)
    if raw.shape[1] != 4:
        raise ValueError(f"{path}: expected 4 tab-separated columns, found {raw.shape[1]}")
    bad = np.flatnonzero(~np.isfinite(raw).all(axis=1))
    if bad.size:
        raise ValueError(f"{path}:{bad[0] + 1}: non-finite value")
    rows = Rows(
        raw[:, 0].astype(np.int64),
        raw[:, 1].astype(np.int64),
        raw[:, 2],
        raw[:, 3].astype(np.int64),
    )
    return rows.take(np.lexsort((rows.item, rows.user)))


def fingerprint(test: Rows) -> str:
    """First 16 hex digits of sha256 over sorted ``"{user}\\t{item}"`` lines."""
    order = np.lexsort((test.item, test.user))
    lines = "\n".join(f"{u}\t{i}" for u, i in zip(test.user[order], test.item[order], strict=True))
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def rating_split(rows: Rows, seed: int = 42, test_fraction: float = 0.2) -> Split:
    """Random 80/20 over canonically ordered rows (PROTOCOL.md rating protocol)."""
    order = np.random.default_rng(seed).permutation(len(rows))
    mask = np.zeros(len(rows), bool)
    mask[order[: round(len(rows) * test_fraction)]] = True
    return Split("rating", rows.take(~mask), rows.take(mask))


def _temporal_positions(rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by (user, ts, item); each row's rank within its user; user sizes."""
    order = np.lexsort((rows.item, rows.ts, rows.user))
    users = rows.user[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.r_[starts, len(users)])
    rank = np.arange(len(users)) - np.repeat(starts, sizes)
    return order, rank, np.repeat(sizes, sizes)


def temporal_split(rows: Rows, test_fraction: float = 0.2, name: str = "ranking") -> Split:
    """Per-user temporal cut: each user's last ``ceil(round(f n_u, 9))`` rows (>= 1) are test."""
    order, rank, size = _temporal_positions(rows)
    n_test = np.array(
        [max(1, math.ceil(round(n * test_fraction, 9))) for n in size.tolist()], np.int64
    )
    mask = np.zeros(len(rows), bool)
    mask[order[rank >= size - n_test]] = True
    return Split(name, rows.take(~mask), rows.take(mask))


def leave_last_out_split(rows: Rows) -> Split:
    """Each user's single latest row by (timestamp, item_id) is test."""
    order, rank, size = _temporal_positions(rows)
    mask = np.zeros(len(rows), bool)
    mask[order[rank == size - 1]] = True
    return Split("leave-last-out", rows.take(~mask), rows.take(mask))
