"""A connection between a user and an item: a path through stored edges that links them
when no meta-path carries the item's score (shown as a link, not the reason for it).

:func:`connection_path` searches with :class:`kg.links.LinkFinder` under
:func:`link_rules` (what a private connection may walk), then aggregates over people, then
a far route for a user with no product of their own.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

from kg.links import LinkFinder, LinkRules
from recommend.paths.far_links import far_link
from recommend.paths.path import Path
from recommend.paths.privacy import (
    AGGREGATES,
    COUNTED,
    ENGAGED,
    LINK_AGGREGATES,
    PERSONAL_RELATIONS,
    Privacy,
    demographic_ids,
    doers_matrix,
    interactions_of,
    user_column,
    violations,
)
from recommend.paths.sentences import render_path

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["CONNECTION_NOTE", "aggregate_link", "connection_path", "link_rules"]

CONNECTION_NOTE = " (a connection in the graph, not the reason for the score)"


def connection_path(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    *,
    max_hops: int = 3,
    influencers: Collection[str] = (),
    max_expand: int = 500,
    finder: LinkFinder | None = None,
    privacy: Privacy | None = None,
) -> Path | None:
    """A path through existing edges (a shortest one of at most ``max_hops`` <= 3 hops
    first), or None.

    The search is :class:`kg.links.LinkFinder`'s under :func:`link_rules` (user side
    expanded at most ``max_expand`` nodes), else an aggregate over people
    (:func:`aggregate_link`: "14 people who viewed A also viewed
    B"), else, for a user with no product of their own, a route through their groups, the
    people they follow or what they are into (:func:`recommend.paths.far_links.far_link`,
    up to 4 hops); pass ``finder`` to reuse one user's neighbourhood across items. The path is a
    connection, not the reason for the score, and says so; one that shows what ``privacy``
    forbids (a ``finder`` made without the rules) is not given.
    """
    privacy = privacy or Privacy()
    finder = finder or LinkFinder(graph, user_id, max_hops=max_hops, max_expand=max_expand,
                                  rules=link_rules(graph))
    link = finder.link(item_id)
    if link is not None:
        nodes, edges = link.nodes, link.edges
    else:
        found = (aggregate_link(graph, user_id, item_id, min_people=privacy.min_people)
                 or far_link(graph, user_id, item_id, min_people=privacy.min_people))
        if found is None:
            return None
        nodes, edges = found
    if violations(graph, user_id, edges, min_people=privacy.min_people):
        return None
    text = render_path(graph, nodes, edges, influencers=influencers)
    return Path(nodes, edges, None, 0.0, text + CONNECTION_NOTE, reason="connection")


def link_rules(graph: KnowledgeGraph) -> LinkRules:
    """The :class:`kg.links.LinkRules` of a private connection: nobody's private acts or
    inferred interests but the source's, nobody not followed, no demographic segment, no
    unaggregated ``co_bought``."""
    return LinkRules(private=PERSONAL_RELATIONS, closed=COUNTED, hidden=demographic_ids(graph))


def aggregate_link(graph: KnowledgeGraph, user: str, item: str, *, min_people: int
                   ) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]] | None:
    """A private connection ``user -did-> A -co_did(n people)-> item`` (nodes, edges): of the
    :data:`LINK_AGGREGATES` the strongest kind with a product A the user did that to and at
    least ``min_people`` people did to both; of those the A most people share (then the first
    by index). None if there is none. Reads only the user's row and the item's doers."""
    if not (graph.has_node(user) and graph.has_node(item)):
        return None
    u, i = graph.index(user), graph.index(item)
    mats = {r: graph.matrix(r, dst_type="product", src_type="user")
            for r in interactions_of(ENGAGED) if graph.num_edges(r)}
    for name in LINK_AGGREGATES:
        interaction = AGGREGATES[name].interaction
        rels = [r for r in mats if interaction in (ENGAGED, r)]
        if not rels:
            continue
        mine = np.unique(np.concatenate([mats[r][u].indices for r in rels]))
        mine = mine[mine != i]
        # by column: a popular item's in-edges as Edge objects took 400 ms (1M events)
        rows = np.unique(np.concatenate(
            [user_column(graph, ("doers", r), i, doers_matrix(graph, r)) for r in rels]))
        if len(mine) == 0 or len(rows) < min_people:
            continue
        both = sum((mats[r][rows][:, mine] for r in rels[1:]), mats[rels[0]][rows][:, mine])
        shared = np.asarray((both != 0).sum(axis=0)).ravel()
        best = int(np.argmax(shared))
        if shared[best] >= min_people:
            a = graph.node_id("product", int(mine[best]))
            first = next(e for e in graph.neighbors(user) if e.dst == a and e.relation in rels)
            return (user, a, item), ((user, first.relation, a), (a, name, item))
    return None
