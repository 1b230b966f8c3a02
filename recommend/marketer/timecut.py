"""A global time cut of a graph: what was known before it, and who took which product after it.

The audience is judged on "who takes this product in the coming period", so its weights are
chosen (:mod:`recommend.marketer.cut_choice`) and benchmarked (``bench/marketer.py``) the same way:
at a time ``cut`` (a quantile of the graph's first take times), the graph as it stood then,
and the users who took each product for the first time after it.

The graph before the cut (:attr:`TimeCut.train`) holds only what was known at the cut: every
timed edge at or after it is left out (a purchase after the cut of a product viewed before it
too, though that pair is no test pair), and so is every (user, product) pair whose first event
is at or after it, with the user's posts and comments that name it
(:func:`recommend.hybrid.split.leaky_post_edges`); the profile stage's relations are
recomputed on what is left (:func:`recommend.hybrid.split.rederive`), as the build's
validation split does. Untimed edges are kept (they cannot be placed). Node indices are the
graph's own.

The takers (:attr:`TimeCut.taken`) are the pairs new after the cut (no event of the user on
the product before it) whose first purchase, cart or rating is after it. Only users known at
the cut (a product event before it) can be ranked from what was known, so only they count
(:meth:`TimeCut.known_takers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["TimeCut", "time_cut"]


@dataclass(frozen=True)
class TimeCut:
    """A graph cut at time ``cut``: the graph before it, and the (users x products) first
    takes after it of pairs new after it (module docstring)."""

    train: KnowledgeGraph
    taken: sp.csr_matrix
    cut: float

    def known_takers(self, known: np.ndarray) -> sp.csc_matrix:
        """The takes of users in the boolean mask ``known`` (users known at the cut), by
        product (columns)."""
        mask = np.zeros(self.taken.shape[0])
        mask[: len(known)] = known[: self.taken.shape[0]]
        taken = (sp.diags(mask) @ self.taken).tocsc()
        taken.eliminate_zeros()
        return taken


def time_cut(graph: KnowledgeGraph, quantile: float = 0.8, *,
             targets: Sequence[str] = ("purchased", "carted", "rated"),
             derived: Sequence[str] = ("co_bought", "interested_in", "member_of"),
             ) -> TimeCut | None:
    """``graph`` cut at the ``quantile`` of its first take times (``targets``), None when it
    has fewer than two timed takes (module docstring). ``derived``: the profile stage's
    relations to recompute on the graph before the cut (those the graph has)."""
    from kg.interactions import NO_TIME, PRODUCT_RELATIONS, latest_times
    from recommend.hybrid.split import graph_without_pairs, leaky_post_edges, rederive
    from recommend.marketer.propensity import cut_time

    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), not {quantile}")
    cut = cut_time(graph, quantile, tuple(targets))
    if cut is None:
        return None
    first_target = latest_times(graph, tuple(targets), first=True).tocoo()
    timed = first_target.data > NO_TIME
    first_event = latest_times(graph, PRODUCT_RELATIONS, first=True).tocoo()
    late = (first_event.data >= cut) & (first_event.data > NO_TIME)
    users, products = first_event.row[late], first_event.col[late]
    codes = users.astype(np.int64) * graph.num_nodes("product") + products
    drops = leaky_post_edges(graph, users, products, first_event.data[late])
    for c in graph.edge_blocks():  # nothing from the test period: every edge at or after it
        key = (c.src_type, c.relation, c.dst_type)
        after = c.ts >= cut  # NaN (no time): kept
        if after.any():
            drops[key] = drops[key] | after if key in drops else after
    rederived = [r for r in derived if graph.num_edges(r)]
    train = graph_without_pairs(graph, codes, drop_relations=rederived, drop_edges=drops)
    rederive(train, rederived)
    after_cut = timed & (first_target.data >= cut)
    taken = sp.csr_matrix((np.ones(int(after_cut.sum())),
                           (first_target.row[after_cut], first_target.col[after_cut])),
                          shape=first_target.shape)
    # only pairs new after the cut (no event before it) are takers
    new = sp.csr_matrix((np.ones(len(users)), (users, products)), shape=first_target.shape)
    taken = taken.multiply(new).tocsr()
    taken.data[:] = 1.0
    return TimeCut(train, taken, cut)
