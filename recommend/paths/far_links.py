"""Connections for a user with no product of their own: through their groups, the people
they follow and what they are into.

:func:`recommend.paths.explain.connection_path` looks first for a stored path of at most
3 hops, then for ``You -did-> A -co_did-> item`` over one of the user's own products
(:func:`recommend.paths.connection.aggregate_link`). A user with no product history (cold
start: only follows, segments, interests, posts) has neither for an item carried by
popularity alone, so :func:`far_link` tries (for any user those two miss), in this order:

- :func:`group_link`, ``You -member_of-> S -members_did-> item``: "You are one of the
  shoppers into Fitness; 14 of them showed interest in it" (strongest kind first: bought,
  rated, any event; of a segment of the user's that is not demographic; the one with the
  most people), the count popularity made, over the user's own group;
- :func:`followee_post_link`, ``You -follows-> F -wrote/shared/liked/commented-> post
  -mentions-> E <-made_by/in_category/about- item``: "You follow @mia, who wrote a post
  about Aurelia; Aurelia makes ..." (a brand before a category before a concept);
- :func:`reached_link`, ``You -interested_in-> E <-made_by/in_category/about- A -co_did->
  item`` or ``You -did-> post -mentions-> A -co_did-> item``: a product A one public hop
  beyond the user's own edges, and at least ``min_people`` people who did it to both
  ("You are into Night; A is about Night; 7 people who viewed A also viewed B"); else the
  same from a product A that a followee's post mentions (``You -follows-> F -wrote-> post
  -mentions-> A -co_did-> item``, 4 hops).

Each is a connection, not the score's reason (the caller says so), and shows only the
user's own edges, public acts of people they follow, public attribute edges and
aggregates over at least ``min_people`` distinct people
(:func:`recommend.paths.privacy.violations`). Every choice is deterministic (ties: the
first in the order each function states). None when no route exists: nothing is made up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.paths.privacy import (
    AGGREGATES,
    LINK_AGGREGATES,
    demographic_ids,
    doers_matrix,
    people,
)
from recommend.paths.user_reasons import ATTRIBUTES, POST_RELATIONS, has_block

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["GROUP_AGGREGATES", "POST_ACTS", "far_link", "followee_post_link", "group_link",
           "reached_link"]

EdgeTriple = tuple[str, str, str]
Found = tuple[tuple[str, ...], tuple[EdgeTriple, ...]]

#: The segment aggregates a group connection may use, strongest first.
GROUP_AGGREGATES = ("members_bought", "members_rated", "members_engaged")
#: A followee's public acts on a post (:data:`~recommend.paths.privacy.PUBLIC_RELATIONS`),
#: strongest first.
POST_ACTS = ("authored", "shared", "liked", "commented")


def far_link(graph: KnowledgeGraph, user: str, item: str, *, min_people: int) -> Found | None:
    """The first of :func:`group_link`, :func:`followee_post_link` and
    :func:`reached_link` that joins ``user`` to ``item`` (nodes, edges), or None."""
    if not (graph.has_node(user) and graph.has_node(item)):
        return None
    return (group_link(graph, user, item, min_people=min_people)
            or followee_post_link(graph, user, item)
            or reached_link(graph, user, item, min_people=min_people))


def _out(graph: KnowledgeGraph, node: str, relation: str, prefix: str) -> list[str]:
    """``node``'s ``relation`` out-neighbours of type ``prefix``, sorted, without repeats."""
    return sorted({e.dst for e in graph.neighbors(node, relation) if e.dst.startswith(prefix)})


def group_link(graph: KnowledgeGraph, user: str, item: str, *, min_people: int
               ) -> Found | None:
    """``user -member_of-> S -members_did-> item`` over at least ``min_people`` of S's
    members (module doc), or None."""
    hidden = demographic_ids(graph)
    groups = [s for s in _out(graph, user, "member_of", "segment:") if s not in hidden]
    for name in GROUP_AGGREGATES:
        counts = [people(graph, (s, name, item)) for s in groups]
        if counts and max(counts) >= min_people:
            s = groups[int(np.argmax(counts))]
            return (user, s, item), ((user, "member_of", s), (s, name, item))
    return None


def followee_post_link(graph: KnowledgeGraph, user: str, item: str) -> Found | None:
    """``user -follows-> F -act-> post -mentions-> E <-rel- item`` for a brand, category or
    concept E of the item (in that order, then by id), a followee F (by id) and their
    strongest public act on a post mentioning E (then the first post by id), or None."""
    acts = _followee_posts(graph, user)
    if not acts:
        return None
    mine = np.concatenate([q for _, _, q in acts])  # every followee's posts, pair by pair
    pair = np.repeat(np.arange(len(acts)), [len(q) for _, _, q in acts])
    for rel, node_type, _ in ATTRIBUTES:
        for entity in _out(graph, item, rel, f"{node_type}:"):
            posts = [nb.indices for nb in graph.neighbor_indices(entity, "mentions", "in")
                     if nb.node_type == "post"]
            if not posts:
                continue
            hit = np.isin(mine, np.concatenate(posts))
            if not hit.any():
                continue
            # pairs come by followee, then act: the first hit's pair is the best; of its
            # posts (and those of any pair with the same followee and act) the first by id
            f, act, _ = acts[int(pair[np.argmax(hit)])]
            same = [k for k, (g, a, _) in enumerate(acts) if (g, a) == (f, act)]
            post = min(graph.node_id("post", q)
                       for q in mine[hit & np.isin(pair, same)].tolist())
            return ((user, f, post, entity, item),
                    ((user, "follows", f), (f, act, post),
                     (post, "mentions", entity), (item, rel, entity)))
    return None


def _followee_posts(graph: KnowledgeGraph, user: str) -> list[tuple[str, str, np.ndarray]]:
    """(followee, act, post indices) of each public act on posts by each person ``user``
    follows (followees by id, :data:`POST_ACTS` in order)."""
    return [(f, act, nb.indices) for f in _out(graph, user, "follows", "user:")
            for act in POST_ACTS for nb in graph.neighbor_indices(f, act)
            if nb.node_type == "post"]


def _products(graph: KnowledgeGraph, node: str, relation: str, direction: str) -> np.ndarray:
    """The product indices joined to ``node`` by ``relation`` edges (sorted, each once)."""
    found = [nb.indices for nb in graph.neighbor_indices(node, relation, direction)
             if nb.node_type == "product"]
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


#: How a product A is reached: the nodes before A (from the user), the edges between them,
#: and the relation joining the last of them to A, with its direction from that node.
Route = tuple[tuple[str, ...], tuple[EdgeTriple, ...], str, str]


#: Products reached, in order, and how: their indices, per product the number of its route,
#: and the route of a number.
Reach = tuple[np.ndarray, np.ndarray, Callable[[int], Route]]


def _near(graph: KnowledgeGraph, user: str) -> Reach:
    """The products one public hop beyond the user's own edges: through what they are
    into (by :data:`ATTRIBUTES`), then the posts they acted on (by :data:`POST_RELATIONS`),
    each by id, then by index."""
    routes: list[Route] = []
    found: list[np.ndarray] = []
    for rel, node_type, _ in ATTRIBUTES:
        for entity in _out(graph, user, "interested_in", f"{node_type}:"):
            routes.append(((user, entity), ((user, "interested_in", entity),), rel, "in"))
            found.append(_products(graph, entity, rel, "in"))
    for act in POST_RELATIONS:
        for post in _out(graph, user, act, "post:"):
            routes.append(((user, post), ((user, act, post),), "mentions", "out"))
            found.append(_products(graph, post, "mentions", "out"))
    cols = np.concatenate(found) if found else np.zeros(0, np.int64)
    return cols, np.repeat(np.arange(len(found)), [len(f) for f in found]), routes.__getitem__


def _far(graph: KnowledgeGraph, user: str) -> Reach:
    """The products mentioned by the posts people the user follows acted on in public
    (followees by id, :data:`POST_ACTS` in order, posts by index, then products by index)."""
    pairs = [(f, act, np.sort(posts)) for f, act, posts in _followee_posts(graph, user)]
    if not pairs or not has_block(graph, "post", "mentions", "product"):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), lambda k: ((), (), "", "")
    posts = np.concatenate([q for _, _, q in pairs])
    pair = np.repeat(np.arange(len(pairs)), [len(q) for _, _, q in pairs])
    sub = graph.matrix("mentions", dst_type="product", src_type="post")[posts]
    of_post = np.repeat(np.arange(len(posts)), np.diff(sub.indptr))
    keep = sub.data != 0

    def route(k: int) -> Route:
        f, act, _ = pairs[pair[k]]
        post = graph.node_id("post", int(posts[k]))
        return (user, f, post), ((user, "follows", f), (f, act, post)), "mentions", "out"

    return sub.indices[keep].astype(np.int64), of_post[keep], route


def _first_routes(reach: Reach, item: int) -> tuple[np.ndarray, np.ndarray]:
    """Each product of ``reach`` once, at its first route, never ``item``: their indices
    and route numbers."""
    cols, route, _ = reach
    cols, first = np.unique(cols, return_index=True)
    order = np.argsort(first, kind="stable")  # the first route's order
    cols, route = cols[order], route[first[order]]
    keep = cols != item
    return cols[keep], route[keep]


def reached_link(graph: KnowledgeGraph, user: str, item: str, *, min_people: int
                 ) -> Found | None:
    """``user -> E -> A -co_did-> item`` (module doc): of :data:`LINK_AGGREGATES` the
    strongest kind with a reached product A that at least ``min_people`` people did it to
    as well as to the item; of those the A most people share (then the first reached). A
    product a followee's post mentions (4 hops) only when no nearer one is found."""
    i = graph.index(item)
    for reach in (_near(graph, user), _far(graph, user)):
        columns, numbers = _first_routes(reach, i)
        hit = _most_shared(graph, i, columns, min_people) if len(columns) else None
        if hit is not None:
            j, name = hit
            a = graph.node_id("product", int(columns[j]))
            nodes, edges, rel, direction = reach[2](int(numbers[j]))
            hop = (a, rel, nodes[-1]) if direction == "in" else (nodes[-1], rel, a)
            return (*nodes, a, item), (*edges, hop, (a, name, item))
    return None


def _most_shared(graph: KnowledgeGraph, i: int, columns: np.ndarray, min_people: int
                 ) -> tuple[int, str] | None:
    """(position in ``columns``, aggregate) of the product most people did the strongest
    :data:`LINK_AGGREGATES` kind to along with product ``i``, if at least ``min_people``."""
    for name in LINK_AGGREGATES:
        doers = doers_matrix(graph, AGGREGATES[name].interaction)
        if i >= doers.shape[1]:
            continue
        them = _rows(doers, np.array([i]))[1]
        if len(them) < min_people:
            continue
        known = np.flatnonzero(columns < doers.shape[1])
        which, rows = _rows(doers, columns[known])
        shared = np.bincount(which[np.isin(rows, them)], minlength=len(known))
        if len(shared) and shared.max() >= min_people:
            return int(known[np.argmax(shared)]), name
    return None


def _rows(doers: sp.csc_matrix, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the columns ``cols`` of a (users x products) csc matrix: each nonzero's position
    in ``cols`` and its row (the people who did it; each once per column)."""
    sub = sp.csc_matrix(doers[:, cols])
    sub.sum_duplicates()
    which = np.repeat(np.arange(len(cols)), np.diff(sub.indptr))
    keep = sub.data != 0
    return which[keep], sub.indices[keep]
