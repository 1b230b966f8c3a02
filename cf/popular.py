"""Most-popular baseline: every user gets the items with the most training interactions."""

from __future__ import annotations

import numpy as np

from cf.base import Recommender
from cf.data import Interactions


class MostPopular(Recommender):
    """Scores each item by its number of training interactions (the same for every user)."""

    def __init__(self) -> None:
        pass

    def _fit(self, x: Interactions) -> None:
        self.counts_ = self.popularity_.astype(np.float64)

    def _scores(self, rows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(rows), len(self.counts_))).copy()
