""""Not interested": the item leaves that user's feed, and items like it move down.

The graph has no relation for a refusal (an event is a positive act in every weighting), so
the server keeps the refusals beside the model: per user, the products they turned down, in
the write-ahead log (so they survive restarts and snapshots). A request asks the recommender
for more than ``k`` items, drops the refused ones, and lowers each remaining item's score by
``penalty`` times its highest content similarity (cosine of the content vectors) to a
refused product, then keeps the top ``k``: the feed refills with what is least like what was
turned down.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from recommend.hybrid.content_component import ContentComponent

if TYPE_CHECKING:
    from recommend.recommender import Recommender
    from recommend.results import Recommendation

PENALTY = 1.0  # score lost by an item identical in content to a refused one


class Refusals:
    """Per user, the products they marked "not interested" (typed ids); thread-safe."""

    def __init__(self) -> None:
        self._by_user: dict[str, set[str]] = defaultdict(set)
        self._lock = threading.Lock()

    def add(self, user: str, item: str) -> None:
        """Record that ``user`` is not interested in ``item``."""
        with self._lock:
            self._by_user[user].add(item)

    def of(self, user: str) -> frozenset[str]:
        """The products ``user`` turned down."""
        with self._lock:
            return frozenset(self._by_user.get(user, ()))

    def total(self) -> int:
        """How many (user, product) refusals are held."""
        with self._lock:
            return sum(map(len, self._by_user.values()))


def _content_similarity(rec: Recommender, items: list[str], refused: frozenset[str]
                        ) -> np.ndarray:
    """Per item, its highest cosine to a refused product (zeros without a content model)."""
    content = rec.model.components.get("content")
    if not isinstance(content, ContentComponent) or not items or not refused:
        return np.zeros(len(items))
    graph = rec.graph
    rows = np.array([graph.index(i) for i in items])
    bad = np.array([graph.index(i) for i in refused if graph.has_node(i)])
    if len(bad) == 0:
        return np.zeros(len(items))
    a, b = content.product_vectors(rows), content.product_vectors(bad)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return np.clip((a @ b.T).max(axis=1), 0.0, 1.0)


def apply_refusals(rec: Recommender, recs: list[Recommendation], refused: frozenset[str],
                   k: int, *, penalty: float = PENALTY) -> list[tuple[Recommendation, float]]:
    """The top ``k`` of ``recs`` without the refused items, each with the score it lost for
    looking like a refused one (scores scaled by the list's spread)."""
    kept = [r for r in recs if r.item not in refused]
    if not kept:
        return []
    if not refused:
        return [(r, 0.0) for r in kept[:k]]
    scores = np.array([r.score for r in kept])
    spread = float(scores.max() - scores.min()) or 1.0
    lost = penalty * spread * _content_similarity(rec, [r.item for r in kept], refused)
    order = np.argsort(-(scores - lost), kind="stable")[:k]
    return [(kept[j], float(lost[j])) for j in order]
