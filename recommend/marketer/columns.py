"""One product's column of every component's user x product score: the hybrid from the item side.

A component answers ``scores(users)`` row by row (:mod:`recommend.hybrid.components`); the
audience of one product needs the transposed question, every user's score of that one
product. Each component has an exact, cheap column:

- ``cf`` history models (item-kNN, EASE): ``H @ W[:, i]``, the users' recency-weighted
  histories times one column of the item x item matrix (a sparse mat-vec); weighted ALS:
  ``U @ v_i`` for the users it was fitted on, folded-in factors for users added later;
- ``session``: ``H @ C[:, i]``, one column of the transition counts;
- ``content``: the users' content vectors times the product's vector;
- ``graph`` / ``social``: each meta-path ``S1 S2 .. Sm`` is pushed right to left from the
  product's one-hot column, ``S1 (S2 (.. Sm[:, i]))``: sparse mat-vecs, never a users x
  products matrix;
- ``popularity``: the same number for every user (it ranks products, not people).

Each equals the component's ``scores(users)[:, i]`` (a test checks this on every component);
column views of the item x item matrices are kept per model (:func:`_csc`).

:func:`category_activity` is not a component: it is each user's appetite for the product's
categories (how many products sharing a category with it they bought, carted or rated), the
propensity the audience blends in beside the hybrid's column
(:func:`recommend.marketer.audience.audience_scores`).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["TAKES", "category_activity", "component_column", "item_columns"]

#: The acts that count as taking a product (as the bench's test takers).
TAKES = ("purchased", "carted", "rated")

_CSC: weakref.WeakKeyDictionary[Any, tuple[int, sp.csc_matrix]] = weakref.WeakKeyDictionary()


def _csc(owner: Any, m: sp.spmatrix) -> sp.csc_matrix:
    """``m`` in CSC form, kept per owner object while ``m`` is the same object."""
    hit = _CSC.get(owner)
    if hit is None or hit[0] != id(m):
        hit = (id(m), sp.csc_matrix(m))
        _CSC[owner] = hit
    return hit[1]


def _matrix_column(owner: Any, m: Any, c: int) -> np.ndarray:
    """Column ``c`` of a dense or sparse matrix as a dense float64 vector."""
    if sp.issparse(m):
        csc = _csc(owner, m)
        out = np.zeros(csc.shape[0])
        lo, hi = csc.indptr[c], csc.indptr[c + 1]
        out[csc.indices[lo:hi]] = csc.data[lo:hi]
        return out
    return np.asarray(m[:, c], np.float64)


def _sparse_times(h: sp.csr_matrix, v: np.ndarray, n_users: int) -> np.ndarray:
    out = np.zeros(n_users)
    out[: h.shape[0]] = h @ v
    return out


def _cf_column(comp: Any, i: int, n_users: int) -> np.ndarray:
    out = np.zeros(n_users)
    pos = np.flatnonzero(comp.columns_ == i)
    if len(pos) == 0:  # a product nobody had touched when the model was fitted
        return out
    c, model = int(pos[0]), comp.model
    if comp.scores_history:
        w = model.similarity_ if hasattr(model, "similarity_") else model.weights_
        return _sparse_times(comp.history_, _matrix_column(model, w, c), n_users)
    fitted = min(model.train_.n_users, comp.history_.shape[0], n_users)
    v = np.asarray(model.item_factors_[c], np.float64)
    out[:fitted] = np.asarray(model.user_factors_[:fitted], np.float64) @ v
    later = np.arange(fitted, min(comp.history_.shape[0], n_users))
    if len(later):
        out[later] = model.fold_in(comp.history_[later]) @ v
    return out


def _path_column(comp: Any, i: int, n_users: int) -> np.ndarray:
    scorer = comp.scorer
    out = np.zeros(n_users)
    for w, mp in zip(scorer.weights_, scorer.metapaths_, strict=True):
        if w <= 0:
            continue
        steps = scorer.steps_[mp.name]
        col = np.zeros(steps[-1].shape[1])
        col[i] = 1.0
        for m in reversed(steps):
            col = m @ col
        out[: len(col)] += w * col[:n_users]
    return out


def component_column(name: str, comp: Any, i: int, n_users: int) -> np.ndarray:
    """Every user's score of product index ``i`` by one component (``n_users`` long)."""
    if name == "cf":
        return _cf_column(comp, i, n_users)
    if name == "session":
        t = comp.transitions_
        if i >= t.shape[1]:
            return np.zeros(n_users)
        return _sparse_times(comp.history_, _matrix_column(comp, t, i), n_users)
    if name == "content":
        u = comp.user_vectors_
        out = np.zeros(n_users)
        out[: u.shape[0]] = (u @ comp.item_vectors_[i]).astype(np.float64)[:n_users]
        return out
    if name in ("graph", "social"):
        return _path_column(comp, i, n_users)
    if name == "popularity":
        return np.full(n_users, float(comp.popularity_[i]))
    raise ValueError(f"no column scorer for component {name!r}")


def item_columns(model: Any, i: int) -> np.ndarray:
    """(users x blended components): each component's score of product ``i`` for every
    graph user, in the blend's component order."""
    n_users = model.graph.num_nodes("user")
    cols = [component_column(n, model.components[n], i, n_users) for n in model.blend.names]
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
