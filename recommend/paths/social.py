"""Social signals: influencer (KOL) weights from the follow graph.

A user's KOL weight is their PageRank over ``follows`` (a follow passes authority from the
follower to the followee), computed by power iteration on the sparse follow matrix exactly as
:func:`networkx.pagerank` does (0.02 s on 677k follows, where building networkx's DiGraph alone
took 6-8 s and dominated artifact load), scaled so that the mean user weighs 1. The
``follows>...`` meta-paths of :mod:`recommend.paths.metapaths` multiply each followee by this
weight before normalising a user's follows, so what an influencer bought or praised counts more
than what a casual account did.

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> g.add_edges("follows", ["user:a", "user:b", "user:c"], ["user:m", "user:m", "user:a"])
>>> k = kol_weights(g)
>>> k.ranking()[0]
'user:m'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["KolWeights", "kol_weights"]


@dataclass(frozen=True)
class KolWeights:
    """Per-user KOL weight (index order of ``graph.nodes("user")``; mean 1) and influencers."""

    users: list[str]
    weights: np.ndarray
    influencer: np.ndarray  # bool mask

    def ranking(self) -> list[str]:
        """User ids from most to least influential."""
        return [self.users[i] for i in np.argsort(-self.weights, kind="stable")]

    def influencers(self) -> set[str]:
        """Ids of the users flagged as influencers."""
        return {u for u, f in zip(self.users, self.influencer, strict=True) if f}


def _pagerank(follows: sp.csr_matrix, *, alpha: float, tol: float = 1e-6,
              max_iter: int = 100) -> np.ndarray:
    """PageRank by power iteration on the sparse follow matrix, as networkx computes it
    (weighted out-edges, dangling mass spread uniformly); networkx's own needs a DiGraph,
    whose construction alone takes seconds at 100k follows."""
    n = follows.shape[0]
    f = follows.astype(np.float64)
    out = np.asarray(f.sum(axis=1)).ravel()
    step = sp.diags(np.divide(1.0, out, out=np.zeros(n), where=out != 0)) @ f
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ step + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * tol:
            break
    return x


def kol_weights(
    graph: KnowledgeGraph,
    *,
    alpha: float = 0.85,
    influencer_quantile: float = 0.95,
    min_followers: int = 3,
) -> KolWeights:
    """PageRank of users over ``follows``, scaled to mean 1.

    A user is an influencer when their weight is at or above the ``influencer_quantile`` of
    all users and at least ``min_followers`` users follow them. With no follows every user
    weighs 1 and nobody is an influencer.
    """
    users = graph.nodes("user")
    n = len(users)
    if n == 0:
        return KolWeights(users, np.zeros(0), np.zeros(0, bool))
    follows = graph.matrix("follows").tocsr()
    if follows.nnz == 0:
        return KolWeights(users, np.ones(n), np.zeros(n, bool))
    weights = _pagerank(follows, alpha=alpha) * n
    followers = np.diff(follows.tocsc().indptr)
    cut = np.quantile(weights, influencer_quantile)
    influencer = (weights >= cut) & (followers >= min_followers)
    return KolWeights(users, weights, influencer)
