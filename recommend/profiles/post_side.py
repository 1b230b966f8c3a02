"""What a user's posts say, for the profile display (``shopgraph profile``) only.

A user whose acts are all on posts has no product events: the profile's categories, brands
and spending power (:mod:`recommend.profiles.features`, what the rankers and the segments
read) are empty for them, and a user who only wrote posts has 0 events. :func:`post_side`
reports their posts beside the profile, without changing it: how many posts they wrote,
liked, commented on and shared (:data:`kg.interactions.POST_ENGAGEMENTS`), how many products
those posts name (the :data:`kg.interactions.POST_TIER` pairs) and the categories of those
products (shares summing to 1, each product counted once, with its broader categories, as
the profile's categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kg.interactions import POST_ENGAGEMENTS, post_pairs
from recommend.profiles.features import Interest

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.profiles.inputs import ProfileInputs

__all__ = ["PostSide", "post_side"]


@dataclass(frozen=True)
class PostSide:
    """A user's posts: distinct posts per engagement relation (``authored`` split into posts
    and ``comments``, the comments the user left that the nlp stage made nodes of), the
    products they name and those products' categories (top shares, summing to 1 over all as
    the profile's do)."""

    counts: dict[str, int]
    products_named: int
    categories: list[Interest]


def post_side(graph: KnowledgeGraph, inputs: ProfileInputs, row: int, top: int = 5
              ) -> PostSide:
    """What the posts of the user at ``row`` say (module docstring)."""
    users = np.array([row], np.int64)
    counts = {}
    for rel in POST_ENGAGEMENTS:
        found = [c.dst[at] for c, at in graph.edges_from(rel, "user", users)
                 if c.dst_type == "post"]
        posts = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
        counts[rel] = len(posts)
        if rel == "authored":
            counts["comments"] = sum(graph.node_attrs(graph.node_id("post", int(p))).get("kind")
                                     == "comment" for p in posts.tolist())
            counts[rel] -= counts["comments"]
    named = post_pairs(graph, users)
    weights = (named @ inputs.product_category).tocsr()
    total = float(weights.sum())
    ranked = sorted(zip((-weights.data).tolist(),
                        (inputs.category_ids[c] for c in weights.indices), strict=True))
    categories = [Interest(node, round(-neg / total, 4)) for neg, node in ranked[:top]]
    return PostSide(counts, named.nnz, categories)
