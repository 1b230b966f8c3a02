"""Session co-occurrence: "people who took j took i soon after", scored from a recent history.

Events are ordered per user by time; every later event ``i`` within ``window`` seconds (and
at most ``max_lag`` events) after an event ``j`` of the same user counts one ``j -> i``
transition. Rows are normalised to sum to 1, so ``C[j]`` is where people went next from
``j``. A user's scores are ``h @ C`` with ``h`` the recency-weighted history of
:func:`cf.ease.recency_weights` (the latest events weigh most). It needs timestamps.

>>> import numpy as np
>>> c = transition_matrix(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 2]),
...                       np.array([0.0, 10.0, 0.0, 5.0]), 3, window=60.0)
>>> c.toarray().tolist()
[[0.0, 0.5, 0.5], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cf.base import Recommender
from cf.data import Interactions
from cf.ease import recency_weights


def transition_matrix(users: np.ndarray, items: np.ndarray, ts: np.ndarray, n_items: int, *,
                      window: float, max_lag: int = 50) -> sp.csr_matrix:
    """(n_items x n_items) row-normalised counts of ``j -> i`` within ``window`` seconds.

    Events with a non-finite time are left out.
    """
    ok = np.isfinite(ts)
    users, items, ts = users[ok], items[ok], ts[ok]
    order = np.lexsort((items, ts, users))
    u, i, t = users[order], items[order], ts[order]
    src, dst = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for lag in range(1, max_lag + 1):
        if lag >= len(u):
            break
        # within a user the gap grows with the lag, so once no pair qualifies none will
        near = (u[lag:] == u[:-lag]) & (t[lag:] - t[:-lag] <= window) & (i[lag:] != i[:-lag])
        if not near.any():
            break
        src.append(i[:-lag][near])
        dst.append(i[lag:][near])
    s, d = np.concatenate(src), np.concatenate(dst)
    counts = sp.csr_matrix((np.ones(len(s)), (s, d)), shape=(n_items, n_items))
    counts.sum_duplicates()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    inverse = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    return (sp.diags(inverse) @ counts).tocsr()


class SessionCooccurrence(Recommender):
    """Next-item co-occurrence within a time window, scored from the recent history."""

    def __init__(self, *, window: float = 3600.0, max_lag: int = 50,
                 recency_tau: float | None = 10.0) -> None:
        self.window = window
        self.max_lag = max_lag
        self.recency_tau = recency_tau

    def _fit(self, x: Interactions) -> None:
        if x.timestamps is None:
            raise ValueError("SessionCooccurrence needs interaction timestamps")
        ts = x.timestamps.tocsr()
        rows = np.repeat(np.arange(x.n_users), np.diff(ts.indptr))
        self._transitions = transition_matrix(rows, ts.indices, ts.data.astype(np.float64),
                                              x.n_items, window=self.window,
                                              max_lag=self.max_lag)
        self._history = recency_weights(x, self.recency_tau).tocsr()

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        super()._set_state(arrays)
        self._fit(self.train_)  # counting is cheap: rebuilt from the saved training data

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return (self._history[rows] @ self._transitions).toarray()
