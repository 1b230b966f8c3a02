"""Connections for a user with no product of their own: through their groups, the people
they follow and what they are into.

:func:`recommend.paths.explain.connection_path` looks first for a stored path of at most
3 hops, then for ``You -did-> A -co_did-> item`` over one of the user's own products
(:func:`recommend.paths.privacy.aggregate_link`). A user with no product history (cold
start: only follows, segments, interests, posts) has neither for an item carried by
popularity alone, so :func:`far_link` tries, in this order:

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
  ("You are into Night; A is about Night; 7 people who viewed A also viewed B").

Each is a connection, not the score's reason (the caller says so), and shows only the
user's own edges, public acts of people they follow, public attribute edges and
aggregates over at least ``min_people`` distinct people
(:func:`recommend.paths.privacy.violations`). Every choice is deterministic (ties: the
first by id). None when no route exists: nothing is made up.
"""

from __future__ import annotations

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
from recommend.paths.user_reasons import ATTRIBUTES, POST_RELATIONS

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
    followees = _out(graph, user, "follows", "user:")
    if not followees:
        return None
    for rel, node_type, _ in ATTRIBUTES:
        for entity in _out(graph, item, rel, f"{node_type}:"):
            posts = {e.src for e in graph.neighbors(entity, "mentions", direction="in")}
            if not posts:
                continue
            for f in followees:
                for act in POST_ACTS:
                    hit = sorted(p for p in _out(graph, f, act, "post:") if p in posts)
                    if hit:
                        return ((user, f, hit[0], entity, item),
                                ((user, "follows", f), (f, act, hit[0]),
                                 (hit[0], "mentions", entity), (item, rel, entity)))
    return None


def _reached(graph: KnowledgeGraph, user: str, item: str
             ) -> list[tuple[str, tuple[str, str], tuple[EdgeTriple, EdgeTriple]]]:
    """The products one public hop beyond the user's own edges (module doc), each once (its
    first route: interests by :data:`ATTRIBUTES`, then posts by :data:`POST_RELATIONS`):
    (product, the two nodes before it, the two edges to it); never ``item``."""
    out: dict[str, tuple[tuple[str, str], tuple[EdgeTriple, EdgeTriple]]] = {}
    for rel, node_type, _ in ATTRIBUTES:
        for entity in _out(graph, user, "interested_in", f"{node_type}:"):
            for a in sorted(e.src for e in graph.neighbors(entity, rel, direction="in")):
                if a.startswith("product:") and a != item:
                    out.setdefault(a, ((user, entity), ((user, "interested_in", entity),
                                                        (a, rel, entity))))
    for act in POST_RELATIONS:
        for post in _out(graph, user, act, "post:"):
            for a in _out(graph, post, "mentions", "product:"):
                if a != item:
                    out.setdefault(a, ((user, post), ((user, act, post),
                                                      (post, "mentions", a))))
    return [(a, *route) for a, route in out.items()]


def reached_link(graph: KnowledgeGraph, user: str, item: str, *, min_people: int
                 ) -> Found | None:
    """``user -> E -> A -co_did-> item`` (module doc): of :data:`LINK_AGGREGATES` the
    strongest kind with a reached product A that at least ``min_people`` people did it to
    as well as to the item; of those the A most people share (then the first reached)."""
    reached = _reached(graph, user, item)
    if not reached:
        return None
    columns = np.array([graph.index(a) for a, _, _ in reached], np.int64)
    i = graph.index(item)
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
            a, nodes, edges = reached[int(known[np.argmax(shared)])]
            return (*nodes, a, item), (*edges, (a, name, item))
    return None


def _rows(doers: sp.csc_matrix, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the columns ``cols`` of a (users x products) csc matrix: each nonzero's position
    in ``cols`` and its row (the people who did it; each once per column)."""
    sub = sp.csc_matrix(doers[:, cols])
    sub.sum_duplicates()
    which = np.repeat(np.arange(len(cols)), np.diff(sub.indptr))
    keep = sub.data != 0
    return which[keep], sub.indices[keep]
