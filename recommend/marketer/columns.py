"""One product's column of every component's user x product score: the hybrid from the item side.

A component answers ``scores(users)`` row by row; the audience of one product needs the
transposed question, every user's score of that one product. Each component answers it
exactly and cheaply through the component contract's ``item_column``
(:mod:`recommend.hybrid.component`): history models and the session multiply the users'
histories by one column of their item x item matrix, ALS its factors, content the user
vectors by the product's, the meta-path scorers push each meta-path from the product's
one-hot column, popularity is the same number for everyone. Each equals the component's
``scores(users)[:, i]`` (a test checks this on every component).

:func:`category_activity` is not a component: it is each user's appetite for the product's
categories (how many products sharing a category with it they bought, carted or rated), the
propensity the audience blends in beside the hybrid's column
(:func:`recommend.marketer.audience.audience_scores`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TAKES", "category_activity", "item_columns"]

#: The acts that count as taking a product (as the bench's test takers).
TAKES = ("purchased", "carted", "rated")


def item_columns(model: Any, i: int) -> np.ndarray:
    """(users x blended components): each component's score of product ``i`` for every
    graph user, in the blend's component order."""
    n_users = model.graph.num_nodes("user")
    cols = [model.components[n].item_column(i, n_users) for n in model.blend.names]
    return np.column_stack(cols) if cols else np.zeros((n_users, 0))


def category_activity(graph: Any, i: int) -> np.ndarray:
    """Every user's ``log1p`` count of the products sharing a category with product index
    ``i`` that they bought, carted or rated (zeros when the graph has no categories)."""
    from kg.interactions import relation_matrix

    n_users = graph.num_nodes("user")
    if not graph.num_nodes("category") or not graph.num_edges("in_category"):
        return np.zeros(n_users)
    takes = graph.cached("marketer.takes", lambda: (
        relation_matrix(graph, TAKES) > 0).astype(np.float64).tocsr())
    cats = graph.matrix("in_category", "category", "product")  # products x categories
    same = np.asarray((cats @ cats[i].T).todense()).ravel() > 0
    out = np.zeros(n_users)
    out[: takes.shape[0]] = np.log1p(takes @ same.astype(np.float64))[:n_users]
    return out
