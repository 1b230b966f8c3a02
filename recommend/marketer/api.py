"""The marketer's methods of :class:`recommend.Recommender`: audience, lookalikes, influencers.

A mixin, so the recommender's module stays about the shopper; each method pins one served
state for its whole call (:func:`recommend.snapshot.reads_snapshot`), like the others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recommend.request import check_k
from recommend.snapshot import reads_snapshot

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.model import HybridModel
    from recommend.marketer.audience import Audience
    from recommend.marketer.influencers import InfluencerChoice
    from recommend.marketer.lookalike import Lookalikes

__all__ = ["MarketerMixin", "influencer_audience_size"]


def influencer_audience_size(n_users: int) -> int:
    """The audience influencers are chosen for by default: 5% of users, at least 100."""
    return max(100, n_users // 20)


class MarketerMixin:
    """Who should see a product, and more users like a brand's customers."""

    model: HybridModel
    graph: KnowledgeGraph

    @reads_snapshot
    def audience(self, item: object, n: int = 1000, *, explain: bool = True) -> Audience:
        """The ``n`` users most likely to take ``item`` next who do not have it, best first,
        each with the paths a marketer may see, and the audience summarised
        (:mod:`recommend.marketer.audience`); KeyError for an unknown item."""
        from recommend.marketer.audience import find_audience

        item_id = self.item_id(item)  # type: ignore[attr-defined]
        kols = self.influencers()  # type: ignore[attr-defined]
        return find_audience(self.model, item_id, check_k(n), explain=explain, influencers=kols)

    @reads_snapshot
    def lookalikes(self, seed: str | os.PathLike[str] | Iterable[object], n: int = 1000
                   ) -> Lookalikes:
        """The ``n`` users most like a brand's known customers, and the traits the two groups
        share (:mod:`recommend.marketer.lookalike`). ``seed``: a seed file's path, or user
        ids (ValueError naming the file and line, or the id, when one is bad)."""
        from recommend.marketer.lookalike import find_lookalikes, read_seed

        graph = self.graph
        typed = self.user_id  # type: ignore[attr-defined]
        if isinstance(seed, str | os.PathLike):
            found = read_seed(Path(seed), graph, typed)
            users, merged = found.users, found.merged
        else:
            ids = list(dict.fromkeys(typed(s) for s in seed))
            missing = [i for i in ids if not graph.has_node(i)]
            if missing or not ids:
                raise ValueError(f"unknown seed users: {missing[:5]}" if missing
                                 else "no seed users")
            users, merged = np.array([graph.index(i) for i in ids], np.int64), 0
        return find_lookalikes(graph, self.model.seen_, users, check_k(n),
                               min_people=self.model.config.privacy.min_people, merged=merged)

    @reads_snapshot
    def choose_influencers(self, item: object, k: int = 5, *, audience_size: int | None = None,
                           runs: int = 100, seed: int = 0, audience: Audience | None = None
                           ) -> InfluencerChoice:
        """``k`` influencers whose followers cover ``item``'s predicted audience (its top
        ``audience_size`` users; default :func:`influencer_audience_size`), chosen by CELF
        over seeded independent-cascade worlds, each explained
        (:mod:`recommend.marketer.influencers`). ``audience``: that audience, already found
        by :meth:`audience` for the same item (not scored again)."""
        from recommend.marketer.audience import activity, audience_scores, top_users
        from recommend.marketer.influencers import choose_influencers

        item_id = self.item_id(item)  # type: ignore[attr-defined]
        if audience is not None:
            if audience.item != item_id:
                raise ValueError(f"the audience given is {audience.item}'s, not {item_id}'s")
            if audience_size is not None:
                raise ValueError("give an audience or an audience_size, not both")
            users = np.array([self.graph.index(m.user) for m in audience.members], np.int64)
        else:
            n_users = self.graph.num_nodes("user")
            size = (influencer_audience_size(n_users) if audience_size is None
                    else check_k(audience_size))
            scores, _, _, _ = audience_scores(self.model, self.graph.index(item_id))
            users = top_users(scores, size, activity(self.model))
        return choose_influencers(self.graph, item_id, users, check_k(k),
                                  runs=check_k(runs), seed=int(seed))
