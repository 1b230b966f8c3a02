"""The popularity component's path (:mod:`recommend.paths.reasons`): popularity is not the
user's, so the path goes through a category of the item that the user engaged with (``You are
into C``, ``You bought A, in C``, or ``You are into P``, of which the item's C is a kind),
else a brand or concept of the item the user is into; the sentence adds how many people
showed interest in the item.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommend.paths.user_reasons import UserReasons, has_block

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["popularity_path"]

EdgeTriple = tuple[str, str, str]
#: One candidate: (fraction of the component's score, type, nodes, edges, note).
Candidate = tuple[float, str, tuple[str, ...], tuple[EdgeTriple, ...], str]


def popularity_path(context: UserReasons, item_id: str, min_people: int
                     ) -> Candidate | None:
    """Through the item's most specific category the user is into, else one holding a
    product of theirs (the strongest, then the first), else one whose broader category the
    user is into, else the item's most specific brand or concept the user is into; the
    sentence's note counts the people who showed interest in the item (if at least
    ``min_people`` besides the user)."""
    i = context.graph.index(item_id)
    n = context.interest_count(i)  # (to reach min_people without the user, who may be one)
    note = f"; {n} people showed interest in it" if n - (i in context.own) >= min_people else ""
    found = _through_category(context, item_id, i)
    if found is None:
        found = _interest_attribute(context, item_id, i)
    return None if found is None else (1.0, found[0], found[1], found[2], note)


def _through_category(context: UserReasons, item_id: str, i: int
                      ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """The category routes of :func:`popularity_path` (type, nodes, edges), or None
    (``i``: the item's index)."""
    if not context.has(("product", "in_category", "category")):
        return None
    graph, user_id = context.graph, context.user_id
    cats, pop = context.categories()
    mine = cats.indices[cats.indptr[i]:cats.indptr[i + 1]]
    if not len(mine):
        return None
    if len(mine) > 1:
        mine = mine[np.argsort(pop[mine], kind="stable")]
    theirs = context.theirs()
    for c in mine.tolist():
        if c in theirs:
            cat = graph.node_id("category", c)
            return ("popularity>interest", (user_id, cat, item_id),
                    ((user_id, "interested_in", cat), (item_id, "in_category", cat)))
    found = _in_your_category(context, item_id, i, mine)
    if found is None and theirs:
        found = _in_your_broader(graph, user_id, item_id, mine, theirs)
    return found


def _interest_attribute(context: UserReasons, item_id: str, i: int
                        ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -interested_in-> E <-made_by/about- item``: the item's least popular brand or
    concept the user is into (a brand before a concept, then the first by index), or None
    (``i``: the item's index)."""
    graph, user_id = context.graph, context.user_id
    if not graph.has_node(user_id):
        return None
    best: tuple[float, str, str, int, str] | None = None
    for rel, node_type, name, m, pop in context.attributes:
        if node_type == "category" or i >= m.shape[0]:
            continue
        theirs = context.interests(node_type)
        # (an item holds a few: a set's test each, the same sorted distinct ones)
        both = sorted({x for x in m.indices[m.indptr[i]:m.indptr[i + 1]].tolist()
                       if x in theirs})
        if both:
            x = both[int(np.argmin(pop[both]))] if len(both) > 1 else both[0]  # first least
            if best is None or pop[x] < best[0]:
                best = (float(pop[x]), name, rel, x, node_type)
    if best is None:
        return None
    _, name, rel, x, node_type = best
    node = graph.node_id(node_type, x)
    return (f"popularity>interest_{name}", (user_id, node, item_id),
            ((user_id, "interested_in", node), (item_id, rel, node)))


def _in_your_category(context: UserReasons, item_id: str, i: int, mine: np.ndarray
                      ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -did-> A -in_category-> C <-in_category- item``: the first of the item's
    categories ``mine`` holding one of the user's products (the strongest relation first;
    ``i``: the item's index)."""
    graph, user_id = context.graph, context.user_id
    products, (indptr, held) = context.products()  # the user's products by category
    for c in mine.tolist():
        # its rows ascend: the first not the item is the strongest, then the first by index
        a = next((products[r] for r in held[indptr[c]:indptr[c + 1]].tolist()
                  if products[r] != i), None)
        if a is not None:
            prod, cat = graph.node_id("product", a), graph.node_id("category", c)
            return ("popularity>category", (user_id, prod, cat, item_id),
                    ((user_id, context.own[a], prod), (prod, "in_category", cat),
                     (item_id, "in_category", cat)))
    return None


def _in_your_broader(graph: KnowledgeGraph, user_id: str, item_id: str, mine: np.ndarray,
                     theirs: set[int]
                     ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -interested_in-> P <-broader- C <-in_category- item``: the first of the item's
    categories ``mine`` whose broader category the user is into."""
    if not has_block(graph, "category", "broader", "category"):
        return None
    up = graph.matrix("broader", dst_type="category", src_type="category")
    for c in mine.tolist():
        for p in up.indices[up.indptr[c]:up.indptr[c + 1]].tolist():
            if p in theirs:
                cat, parent = graph.node_id("category", c), graph.node_id("category", p)
                return ("popularity>interest_broader", (user_id, parent, cat, item_id),
                        ((user_id, "interested_in", parent), (cat, "broader", parent),
                         (item_id, "in_category", cat)))
    return None
