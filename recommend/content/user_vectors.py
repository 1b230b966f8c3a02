"""User content vectors: the recency-weighted mix of the items a user bought, liked, posted, saw.

``U = row_normalise(W @ V)``, with ``V`` the content index's unit item vectors and ``W`` a sparse
user × item matrix summing, over the user's interactions,

    kind_weight(relation) · 2^(-(t_ref - ts) / half_life)      (ts unknown: no decay)

Interactions with a product count directly; interactions with a post (authoring it, liking
it, ...) count for the products the post mentions, the post's weight shared equally among
them. A rating also scales by its weight / 5. ``t_ref`` defaults to each user's own latest timed
interaction, so "recent" means recent in the data, not on the wall clock. After the row
normalisation this is the same as measuring from the data's newest timestamp (a per-user
constant factor cancels), except that no timestamp of someone else (a single event dated 2199)
can decay a user's history until it underflows to nothing. A user with no
interaction reaching an indexed item gets a zero vector and ``empty_mask`` True: the ranker
falls back (popularity, social) for them instead of searching with noise.

>>> from kg.graph import KnowledgeGraph  # doctest: +SKIP
>>> uv = user_vectors(graph, index, half_life_days=30.0)  # doctest: +SKIP
>>> index.search(uv.matrix[~uv.empty_mask], k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.content.index import ContentIndex, normalise_rows

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["DEFAULT_KIND_WEIGHTS", "UserVectors", "interaction_blocks", "interaction_weights",
           "user_vector_rows", "user_vectors"]

#: Relation -> weight of one interaction: purchase > cart > share > like, comment > click > view.
#: ``authored`` is a post the user wrote (it counts for the products it mentions); ``rated``
#: is further scaled by its edge weight / 5 (1 + stars, :func:`kg.schema.event_weight`).
DEFAULT_KIND_WEIGHTS: Mapping[str, float] = {
    "purchased": 8.0,
    "carted": 5.0,
    "authored": 5.0,
    "rated": 5.0,
    "shared": 4.0,
    "liked": 3.0,
    "commented": 3.0,
    "clicked": 2.0,
    "viewed": 1.0,
}
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class UserVectors:
    """Row i of ``matrix`` is the unit content vector of ``ids[i]`` (the graph's user order).

    ``empty_mask[i]`` marks users with no indexed interaction (zero row); ``weights`` is the
    user × item matrix ``W`` (columns in content index order), kept for explanations.
    """

    ids: list[str]
    matrix: np.ndarray
    empty_mask: np.ndarray
    weights: sp.csr_matrix

    def seen(self) -> list[set[int]]:
        """Per user, the item positions they interacted with (for ``search(exclude=...)``)."""
        w = self.weights
        return [set(w.indices[w.indptr[i] : w.indptr[i + 1]].tolist()) for i in range(w.shape[0])]

    def empty_ids(self) -> list[str]:
        """The users who got no content vector."""
        return [self.ids[i] for i in np.flatnonzero(self.empty_mask)]


@dataclass(frozen=True, slots=True)
class _Edges:
    """The columns of some of a block's edges (all, or those of some users)."""

    dst_type: str
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    ts: np.ndarray


def interaction_blocks(graph: KnowledgeGraph, kind_weights: Mapping[str, float],
                        users: np.ndarray | None = None) -> list:
    """(relation, kind weight, edges) of each user -> product/post block to weigh (only the
    edges of ``users`` when given)."""
    out = []
    for rel, weight in kind_weights.items():
        found = (((c, slice(None)) for c in graph.edge_blocks(rel) if c.src_type == "user")
                 if users is None else graph.edges_from(rel, "user", users))
        for c, keep in found:  # all edges, or the users' (through the block's adjacency)
            if c.dst_type in ("product", "post"):
                out.append((rel, weight, _Edges(c.dst_type, c.src[keep], c.dst[keep],
                                                c.weight[keep], c.ts[keep])))
    return out


def latest_per_user(graph: KnowledgeGraph, blocks: list) -> np.ndarray:
    """Each user's latest timestamp over ``blocks`` (NaN: the user has no timed edge)."""
    latest = np.full(graph.num_nodes("user"), -np.inf)
    for _, _, c in blocks:
        timed = ~np.isnan(c.ts)
        np.maximum.at(latest, c.src[timed], c.ts[timed])
    return np.where(np.isfinite(latest), latest, np.nan)


def interaction_weights(
    graph: KnowledgeGraph,
    item_ids: list[str],
    *,
    half_life_days: float | None = 30.0,
    kind_weights: Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
    t_ref: float | None = None,
    users: np.ndarray | None = None,
    column: np.ndarray | None = None,
) -> sp.csr_matrix:
    """``W``: (graph users × ``item_ids``) recency-decayed interaction weights (module doc).

    ``half_life_days=None`` turns decay off; products not in ``item_ids`` are ignored.
    ``t_ref`` (None: each user's latest interaction, see the module doc) is when age is 0.
    With ``users``, only their rows are filled (each as without it; the others are empty).
    ``column``: each graph product's position in ``item_ids`` (-1: none), if already known.
    """
    if half_life_days is not None and half_life_days <= 0:
        raise ValueError(f"half_life_days must be positive (or None), not {half_life_days}")
    n_users, n_items = graph.num_nodes("user"), len(item_ids)
    if column is None:
        column = np.full(graph.num_nodes("product"), -1, dtype=np.int64)
        for j, item in enumerate(item_ids):
            if graph.has_node(item):
                column[graph.index(item)] = j
    blocks = interaction_blocks(graph, kind_weights, users)
    ref = latest_per_user(graph, blocks) if t_ref is None else np.full(n_users, float(t_ref))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    post_parts: list[sp.csr_matrix] = []
    # with ``users``, only the posts they reached: their rows of the post x item table
    posts = (None if users is None else
             np.unique(np.concatenate([np.zeros(0, np.int64)] + [
                 c.dst for _, _, c in blocks if c.dst_type == "post"])).astype(np.int64))
    n_posts = graph.num_nodes("post") if posts is None else len(posts)
    for rel, kind_weight, c in blocks:
        w = kind_weight * _decay(c.ts, ref[c.src], half_life_days)
        if rel == "rated":
            w = w * c.weight / 5.0
        if c.dst_type == "product":
            keep = column[c.dst] >= 0
            rows.append(c.src[keep])
            cols.append(column[c.dst[keep]])
            vals.append(w[keep])
        else:
            dst = c.dst if posts is None else np.searchsorted(posts, c.dst)
            post_parts.append(sp.csr_matrix((w, (c.src, dst)), shape=(n_users, n_posts)))
    weights = sp.csr_matrix(
        (
            np.concatenate(vals) if vals else np.zeros(0),
            (
                np.concatenate(rows) if rows else np.zeros(0, np.int64),
                np.concatenate(cols) if cols else np.zeros(0, np.int64),
            ),
        ),
        shape=(n_users, n_items),
        dtype=np.float64,
    )
    if post_parts:
        weights = weights + (sum(post_parts[1:], post_parts[0])
                             @ _post_items(graph, column, n_items, posts))
    weights.sum_duplicates()
    return weights.tocsr()


def _decay(ts: np.ndarray, t_ref: np.ndarray, half_life_days: float | None) -> np.ndarray:
    """2^(-age / half_life) per edge (``t_ref`` per edge); 1 where ts is unknown, decay is off
    or age < 0."""
    if half_life_days is None:
        return np.ones(len(ts))
    age = np.maximum(t_ref - ts, 0.0) / (half_life_days * _SECONDS_PER_DAY)
    return np.where(np.isnan(ts) | np.isnan(t_ref), 1.0, np.exp(-age * math.log(2.0)))


def _post_items(graph: KnowledgeGraph, column: np.ndarray, n_items: int,
                posts: np.ndarray | None = None) -> sp.csr_matrix:
    """(posts × items): each post's weight shared equally among the indexed products it mentions
    (only the rows of ``posts``, sorted, when given: each row is computed on its own)."""
    mentions = graph.matrix("mentions", dst_type="product")
    mentions = (mentions if posts is None else mentions[posts]).tocoo()
    keep = column[mentions.col] >= 0
    m = sp.csr_matrix(
        (np.ones(int(keep.sum())), (mentions.row[keep], column[mentions.col[keep]])),
        shape=(mentions.shape[0], n_items),
    )
    m.data[:] = 1.0  # a product tagged twice in one post counts once
    counts = np.asarray(m.sum(axis=1)).ravel()
    return sp.diags(1.0 / np.maximum(counts, 1.0)) @ m


def user_vectors(
    graph: KnowledgeGraph,
    item_index: ContentIndex,
    *,
    half_life_days: float | None = 30.0,
    kind_weights: Mapping[str, float] = DEFAULT_KIND_WEIGHTS,
    t_ref: float | None = None,
) -> UserVectors:
    """Unit content vectors of every user of ``graph`` over ``item_index`` (module doc)."""
    weights = interaction_weights(
        graph,
        item_index.ids,
        half_life_days=half_life_days,
        kind_weights=kind_weights,
        t_ref=t_ref,
    )
    matrix = _unit_rows(weights, item_index)
    empty = np.linalg.norm(matrix, axis=1) == 0
    return UserVectors(graph.nodes("user"), matrix, empty, weights)


def _unit_rows(weights: sp.csr_matrix, item_index: ContentIndex) -> np.ndarray:
    return normalise_rows(np.asarray(weights @ item_index.vectors(), dtype=np.float32))


def user_vector_rows(
    graph: KnowledgeGraph,
    item_index: ContentIndex,
    users: np.ndarray,
    *,
    half_life_days: float | None = 30.0,
    column: np.ndarray | None = None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ``users`` of :func:`user_vectors`' ``weights`` and ``matrix`` (the same values),
    computed from those users' interactions only (default kind weights and reference times;
    ``column`` as in :func:`interaction_weights`)."""
    weights = interaction_weights(graph, item_index.ids, half_life_days=half_life_days,
                                  users=users, column=column)[users]
    cols = np.unique(weights.indices)  # only the items these users reached
    vectors = item_index.vectors_at(cols).astype(np.float64)  # as scipy would upcast them
    return weights, normalise_rows(np.asarray(weights[:, cols] @ vectors, dtype=np.float32))
