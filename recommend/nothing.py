"""Why a request found fewer products than asked for, or none, for the notice that says so.

:func:`open_products` counts the products a request may get (described, passing its filters,
new to the user unless seen ones are allowed): a request for more gets them all, or fewer
when no component scores some of them.

A request ranks the products its components score for the user (their top products); on a
catalogue without product events and for a user whose posts name no product, no component
scores anything, and the list is empty. :func:`why_nothing` says which of those holds:

- no product has an event, so nothing is popular (and no one's history links products);
- and the user is unknown, or none of the posts they wrote, liked, commented on or shared
  names a product, so nothing of theirs leads to one; when the build skipped the nlp stage
  (``--no-nlp``), post texts were not read for the products they name, and the notice says
  so (a build that reads them links "my red mug" to the product, and the user's posts then
  lead to recommendations: content and graph, explained through the posts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kg.interactions import NAMING_RELATIONS, POST_ENGAGEMENTS, PRODUCT_RELATIONS

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.filters import Filters
    from recommend.recommender import Recommender

__all__ = ["open_products", "why_nothing"]


def why_nothing(graph: KnowledgeGraph, user_id: str, manifest: dict[str, Any]) -> str | None:
    """Why no component scores any product for ``user_id`` (typed), or None when something
    does (products have events, or the user's history or posts lead to products: then the
    filters, or what the user has seen, left the list empty)."""
    if not graph.described("product").any():
        return "the catalogue holds no product (no accepted line of products.jsonl)"
    if any(graph.matrix(r, dst_type="product", src_type="user").nnz for r in PRODUCT_RELATIONS):
        return None
    if not graph.has_node(user_id):
        theirs = f"{user_id} is not in the graph"
    else:
        posts = _posts(graph, user_id)
        if _naming(graph, posts):
            return None
        theirs = f"{user_id} has no post" if not posts else (
            f"no post {user_id} wrote, liked, commented on or shared ({len(posts)} in all) "
            "names a product")
        if posts and "nlp" not in manifest.get("stages", {}):
            theirs += " (built with --no-nlp: no post text was read for the products it names)"
    return ("no product has an event yet (a view, purchase, rating...): nothing is popular "
            f"and no history links products; {theirs}")


def _posts(graph: KnowledgeGraph, user_id: str) -> set[int]:
    u = graph.index(user_id)
    return {int(p) for r in POST_ENGAGEMENTS
            for p in graph.matrix(r, dst_type="post", src_type="user")[u].indices}


def _naming(graph: KnowledgeGraph, posts: set[int]) -> int:
    rows = sorted(posts)
    return sum(int(graph.matrix(r, dst_type="product", src_type="post")[rows].nnz)
               for r in NAMING_RELATIONS) if rows else 0


def open_products(rec: Recommender, user_id: str, *, exclude_seen: bool,
                  filters: Filters) -> int:
    """How many products a request of ``user_id`` (typed) may get: described, passing
    ``filters``, and new to the user when ``exclude_seen``."""
    from recommend.hybrid.filters import filter_mask

    g = rec.graph
    u = g.index(user_id) if g.has_node(user_id) else g.num_nodes("user")
    pool = rec.model.allowed(np.array([u]), g.described("product"), exclude_seen)[0]
    if filters.active:
        pool &= filter_mask(g, filters)
    return int(pool.sum())
