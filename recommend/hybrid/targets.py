"""What counts as a user's choice of a product, for validation and for evaluation.

A held-out pair is a product the user chose: by default one they purchased, carted or rated
(``HybridConfig.target_relations``). A platform's data may hold none of those (only views and
clicks, only likes), or too few to validate on. Left alone, the build would then fit its
blend on nobody and serve fixed weights, and ``shopgraph evaluate`` would have nothing to
score. So the relations widen, a tier at a time in the order of the schema's event weights
(:data:`kg.schema.EVENT_WEIGHTS`), until at least ``min_users`` users have
``split.min_user_items`` products reached through them: first the engagements (like, share,
comment), then clicks, then views, and last, for data whose events are all on posts, the
products named by a post the user wrote, liked, commented on or shared
(:data:`kg.interactions.POST_TIER`). The tiers accumulate, and the widest set is kept only
where it adds eligible users; a dataset whose configured relations give enough users is
never touched. The choice is
recorded (:func:`resolve_targets`' record: the relations, the eligible users of each tier
tried, and why), so the manifest says what the validation judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kg.graph import KnowledgeGraph
from kg.interactions import POST_TIER, has_target, latest_times

__all__ = ["MIN_USERS", "WIDER_TIERS", "eligible_users", "resolve_targets"]

#: The relations added, tier by tier, when the configured ones leave too few users.
WIDER_TIERS: tuple[tuple[str, ...], ...] = (("liked", "shared", "commented"), ("clicked",),
                                           ("viewed",), (POST_TIER,))
#: Fewer eligible users than this and the next tier is tried.
MIN_USERS = 20


def eligible_users(graph: KnowledgeGraph, relations: Sequence[str], min_user_items: int) -> int:
    """How many users reach at least ``split.min_user_items`` products through ``relations``."""
    pairs = latest_times(graph, tuple(relations))
    counts = np.bincount(pairs.row, minlength=pairs.shape[0])
    return int((counts >= min_user_items).sum())


def resolve_targets(graph: KnowledgeGraph, relations: Sequence[str], min_user_items: int,
                    min_users: int = MIN_USERS) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The target relations to hold out from (module docstring) and the record of the choice.

    >>> from kg.build import build_graph
    >>> from kg.records import Dataset, Event, Product, User
    >>> ds = Dataset(products=[Product("A", "Tea"), Product("B", "Mug")], users=[User("1")],
    ...              events=[Event("1", p, "product", "view") for p in "AB"])
    >>> resolve_targets(build_graph(ds, progress=False), ("purchased",), 2, min_users=1)[0]
    ('purchased', 'viewed')
    """
    chosen = tuple(relations)
    found = eligible_users(graph, chosen, min_user_items)
    tried = [{"relations": list(chosen), "eligible_users": found}]
    wider = chosen
    for tier in WIDER_TIERS:
        if found >= min_users:
            break
        added = tuple(r for r in tier if r not in wider and has_target(graph, r))
        if not added:
            continue
        wider += added
        more = eligible_users(graph, wider, min_user_items)
        tried.append({"relations": list(wider), "eligible_users": more})
        if more > found:
            chosen, found = wider, more
    record: dict[str, Any] = {"relations": list(chosen), "eligible_users": found,
                              "widened": chosen != tuple(relations)}
    if len(tried) > 1:  # why: the configured relations left too few users
        record["why"] = (f"the configured relations give {tried[0]['eligible_users']} users "
                         f"with {min_user_items}+ products, under {min_users}")
        record["tried"] = tried
    return chosen, record
