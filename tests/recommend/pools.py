"""Synthetic candidate pools for blend and selection tests: every user x every item, one
held-out item per user."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def full_pool(n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, items) of every (user, item) pair, user by user."""
    return np.repeat(np.arange(n_users), n_items), np.tile(np.arange(n_items), n_users)


def held_out(target: np.ndarray, n_items: int) -> sp.csr_matrix:
    """(users x items) 0/1: user ``u``'s one held-out item is ``target[u]``."""
    n_users = len(target)
    return sp.csr_matrix((np.ones(n_users), (np.arange(n_users), target)),
                         shape=(n_users, n_items))
