"""Paths for the components that are not meta-paths: cf, session, content and popularity.

:mod:`recommend.hybrid.evidence` says which of the user's own products carry such a
component's score of an item (exactly, for the linear ones). Each becomes a path of stored
edges that says what that component saw, never more:

- ``cf`` and ``session`` learned from people who did both: ``You -did-> A -co_did-> item``,
  the second hop an aggregate over at least ``min_people`` people
  (:data:`recommend.paths.privacy.LINK_AGGREGATES`, strongest first), else a stored
  ``also_bought`` / ``bought_together`` / ``also_viewed`` link, else a rules-made
  ``co_bought`` bought by ``min_people`` people;
- ``content`` compared texts: ``You -did-> A -made_by-> brand <-made_by- item`` (or the same
  category or concept: the most specific one they share), or a stored ``similar`` edge. The
  content profile also holds the products of the posts the user wrote, liked, shared or
  commented on (:mod:`recommend.content.user_vectors`): a product A reached only so starts
  ``You -liked-> post -mentions-> A`` (when A is the item itself, that is the whole path:
  ``content>post``);
- ``popularity`` is not the user's: the path goes through a category of the item that the
  user engaged with (``You are into C``, ``You bought A, in C``, or ``You are into P``, of
  which the item's C is a kind), else a brand or concept of the item the user is into, and
  the sentence adds how many people showed interest in the item.

A product with no such hop gives no path (the next one is tried): nothing is made up. The
first hop is the user's own strongest stored edge to A (purchase first, view last; for
content, else to a post that mentions A: written first, viewed last). A
path's type (its ``metapath``) is ``"<component>><how>"``, e.g. ``"cf>co_purchased"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.paths.privacy import (
    AGGREGATES,
    ENGAGED,
    LINK_AGGREGATES,
    doers_matrix,
    interactions_of,
    people,
)
from recommend.paths.quality import entity_popularity

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.evidence import Evidence

__all__ = ["OWN_RELATIONS", "UserReasons", "evidence_paths", "evidence_types", "own_products"]

EdgeTriple = tuple[str, str, str]
#: A user's own relations to a product, strongest first: the first hop of an evidence path.
OWN_RELATIONS = ("purchased", "carted", "rated", "shared", "liked", "commented", "clicked",
                 "viewed")
#: Stored product links that record co-interaction (loaded datasets' relations).
STORED_LINKS = ("also_bought", "bought_together", "also_viewed")
#: A user's own relations to a post, strongest first (a content path's first hop to a
#: product the post mentions; the content profile's kind weights, user_vectors).
POST_RELATIONS = ("authored", "shared", "liked", "commented", "clicked", "viewed")
#: Attributes two products can share (relation, node type, type name), for content.
ATTRIBUTES = (("made_by", "brand", "brand"), ("in_category", "category", "category"),
              ("about", "concept", "concept"))

#: One candidate: (fraction of the component's score, type, nodes, edges, note).
Candidate = tuple[float, str, tuple[str, ...], tuple[EdgeTriple, ...], str]


def own_products(graph: KnowledgeGraph, user_id: str) -> dict[int, str]:
    """The user's products (graph indices) -> their strongest own relation to each."""
    out: dict[int, str] = {}
    if not graph.has_node(user_id):
        return out
    u = graph.index(user_id)
    for rel in OWN_RELATIONS:
        if not _has_block(graph, "user", rel, "product"):
            continue
        m = graph.matrix(rel, dst_type="product", src_type="user")
        if u < m.shape[0]:
            for a in m.indices[m.indptr[u]:m.indptr[u + 1]].tolist():
                out.setdefault(a, rel)
    return out


class UserReasons:
    """What :func:`evidence_paths` asks of the graph for one user, gathered once per request:
    which relation blocks hold edges, the attribute matrices and their entities' popularity,
    the user's products by strength and the categories they hold, the categories the user
    is into, the posts they acted on. Made by :func:`evidence_paths` when not given; a
    request explaining ``k`` items makes one (the answers are the same either way)."""

    def __init__(self, graph: KnowledgeGraph, user_id: str, own: dict[int, str]) -> None:
        self.graph, self.user_id, self.own = graph, user_id, own
        self.blocks: frozenset[tuple[str, str, str]] = graph.cached(
            ("non-empty blocks",), lambda: frozenset(
                (c.src_type, c.relation, c.dst_type) for c in graph.edge_blocks() if len(c)))
        self.attributes = [(rel, node_type, name,
                            graph.matrix(rel, dst_type=node_type, src_type="product"),
                            entity_popularity(graph, node_type))
                           for rel, node_type, name in ATTRIBUTES
                           if ("product", rel, node_type) in self.blocks]
        self._categories: tuple[sp.csr_matrix, np.ndarray] | None = None
        self._theirs: set[int] | None = None
        self._products: tuple[np.ndarray, sp.csc_matrix] | None = None
        self._posts: tuple[sp.csc_matrix, dict[int, set[str]]] | None = None

    def has(self, src: str, rel: str, dst: str) -> bool:
        """Whether the graph holds a ``src -rel-> dst`` edge of these node types."""
        return (src, rel, dst) in self.blocks

    def categories(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """(products x categories ``in_category``, the categories' popularity): the
        popularity path's lookups."""
        if self._categories is None:
            graph = self.graph
            self._categories = (
                graph.matrix("in_category", dst_type="category", src_type="product"),
                entity_popularity(graph, "category"))
        return self._categories

    def theirs(self) -> set[int]:
        """The categories the user is ``interested_in``."""
        if self._theirs is None:
            self._theirs = set()
            if self.has("user", "interested_in", "category"):
                into = self.graph.matrix("interested_in", dst_type="category", src_type="user")
                u = self.graph.index(self.user_id)
                self._theirs = set(into.indices[into.indptr[u]:into.indptr[u + 1]].tolist())
        return self._theirs

    def posts(self) -> tuple[sp.csc_matrix, dict[int, set[str]]] | None:
        """(posts x products ``mentions`` by column, the user's posts -> their relations to
        each (:data:`POST_RELATIONS`)), or None when no post mentions a product."""
        if self._posts is None:
            graph = self.graph
            if not self.has("post", "mentions", "product"):
                return None
            mentions = graph.cached(("post mentions by product",), lambda: graph.matrix(
                "mentions", dst_type="product", src_type="post").tocsc())
            mine: dict[int, set[str]] = {}
            u = graph.index(self.user_id)
            for rel in POST_RELATIONS:
                if self.has("user", rel, "post"):
                    m = graph.matrix(rel, dst_type="post", src_type="user")
                    if u < m.shape[0]:
                        for q in m.indices[m.indptr[u]:m.indptr[u + 1]].tolist():
                            mine.setdefault(q, set()).add(rel)
            self._posts = (mentions, mine)
        return self._posts

    def products(self) -> tuple[np.ndarray, sp.csc_matrix]:
        """The user's products, strongest relation first (then by index), and which
        categories each is in (those products x categories, by column)."""
        if self._products is None:
            strength = {rel: k for k, rel in enumerate(OWN_RELATIONS)}
            products = np.array([a for _, a in sorted((strength[r], a)
                                                      for a, r in self.own.items())], np.int64)
            cats = self.categories()[0]
            self._products = (products, cats[products].tocsc())
        return self._products


def evidence_paths(
    graph: KnowledgeGraph, user_id: str, item_id: str, evidence: Sequence[Evidence],
    own: dict[int, str], *, min_people: int, per_component: int = 3,
    context: UserReasons | None = None,
) -> list[tuple[str, float, Candidate]]:
    """``(component, component share, candidate)`` for up to ``per_component`` paths of each
    :class:`~recommend.hybrid.evidence.Evidence` of ``item_id`` (module doc); ``context``:
    the user's :class:`UserReasons` (over the same ``own``), reused across items."""
    out: list[tuple[str, float, Candidate]] = []
    if not evidence:
        return out
    context = context or UserReasons(graph, user_id, own)
    for ev in evidence:
        found: list[Candidate] = []
        if ev.component == "popularity":
            path = _popularity_path(context, item_id, min_people)
            found = [] if path is None else [path]
        for a, fraction in ev.links:
            if len(found) >= per_component:
                break
            rel = own.get(a)
            prod = graph.node_id("product", a)
            if ev.component == "content":
                start = ((user_id, prod), ((user_id, rel, prod),)) if rel is not None \
                    else _via_post(context, prod)
                if start is not None and prod == item_id:  # the item is in your post itself
                    if rel is None:
                        found.append((fraction, "content>post", *start, ""))
                    continue
                hop = None if start is None else _shared(context, prod, item_id)
                if start is not None and hop is not None:
                    how, middle = hop
                    found.append((fraction, f"content>{how}", (*start[0], *middle[0]),
                                  (*start[1], *middle[1]), ""))
                continue
            if rel is None:
                continue
            edge = _co_hop(context, prod, item_id, min_people, rel)
            if edge is not None:
                found.append((fraction, f"{ev.component}>{edge[1]}",
                              (user_id, prod, item_id), ((user_id, rel, prod), edge), ""))
        out += [(ev.component, ev.share, c) for c in found]
    return out


def evidence_types(graph: KnowledgeGraph, components: Sequence[str]) -> set[str]:
    """The path types :func:`evidence_paths` can give on ``graph`` for ``components``."""
    out: set[str] = set()
    links = [a for a in LINK_AGGREGATES
             if any(_has_block(graph, "user", r, "product")
                    for r in interactions_of(AGGREGATES[a].interaction))]
    links += [r for r in (*STORED_LINKS, "co_bought") if _has_block(graph, "product", r,
                                                                    "product")]
    for name in components:
        if name in ("cf", "session"):
            out |= {f"{name}>{r}" for r in links}
        elif name == "content":
            out |= {f"content>same_{n}" for r, t, n in ATTRIBUTES
                    if _has_block(graph, "product", r, t)}
            if _has_block(graph, "product", "similar", "product"):
                out.add("content>similar")
            if _has_block(graph, "post", "mentions", "product") and any(
                    _has_block(graph, "user", r, "post") for r in POST_RELATIONS):
                out.add("content>post")
        elif name == "popularity":
            if _has_block(graph, "product", "in_category", "category"):
                out.add("popularity>category")
                if _has_block(graph, "user", "interested_in", "category"):
                    out.add("popularity>interest")
                    if _has_block(graph, "category", "broader", "category"):
                        out.add("popularity>interest_broader")
            out |= {f"popularity>interest_{n}" for r, t, n in ATTRIBUTES if t != "category"
                    and _has_block(graph, "user", "interested_in", t)
                    and _has_block(graph, "product", r, t)}
    return out


def _via_post(context: UserReasons, prod: str
              ) -> tuple[tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -did-> post -mentions-> prod`` (nodes, edges) through the user's strongest
    relation (:data:`POST_RELATIONS`) to a post that mentions ``prod`` (of those, the first
    by id), or None."""
    graph, user_id = context.graph, context.user_id
    if not (graph.has_node(user_id) and graph.has_node(prod)):
        return None
    found = context.posts()
    if found is None:
        return None
    mentions, mine = found
    i = graph.index(prod)
    if i >= mentions.shape[1]:
        return None
    posts = mentions.indices[mentions.indptr[i]:mentions.indptr[i + 1]].tolist()
    for rel in POST_RELATIONS:
        ids = sorted(graph.node_id("post", q) for q in posts if rel in mine.get(q, ()))
        if ids:
            return (user_id, ids[0], prod), ((user_id, rel, ids[0]), (ids[0], "mentions", prod))
    return None


def _has_block(graph: KnowledgeGraph, src: str, rel: str, dst: str) -> bool:
    return any(c.src_type == src and c.dst_type == dst and len(c)
               for c in graph.edge_blocks(rel))


def _co_hop(context: UserReasons, a: str, item: str, min_people: int, own: str
            ) -> EdgeTriple | None:
    """``a -> item`` over people who did both (module doc; first the aggregate of the
    user's ``own`` act on ``a``: "You viewed A; 9 people who viewed A also viewed B"), or
    None."""
    graph = context.graph
    for name in (*_MINE[own], *LINK_AGGREGATES):
        if people(graph, (a, name, item)) >= min_people:
            return (a, name, item)
    for rel in STORED_LINKS:  # (a relation with no product -> product edge: no such edge)
        if not context.has("product", rel, "product"):
            continue
        if graph.has_edge(a, rel, item):
            return (a, rel, item)
        if graph.has_edge(item, rel, a):
            return (item, rel, a)
    if not context.has("product", "co_bought", "product"):
        return None
    for src, dst in ((a, item), (item, a)):
        if graph.has_edge(src, "co_bought", dst) and people(
                graph, (src, "co_bought", dst)) >= min_people:
            return (src, "co_bought", dst)
    return None


#: The aggregates over each own relation ("You viewed A; people who viewed A ...").
_MINE = {own: tuple(n for n in LINK_AGGREGATES if AGGREGATES[n].interaction == own)
         for own in OWN_RELATIONS}


def _shared(context: UserReasons, a: str, item: str
            ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """What content path joins ``a`` to ``item``: a stored ``similar`` edge, else the most
    specific brand, category or concept both have ((type, (nodes after a, edges)))."""
    graph = context.graph
    if context.has("product", "similar", "product"):
        for src, dst in ((a, item), (item, a)):
            if graph.has_edge(src, "similar", dst):
                return "similar", ((item,), ((src, "similar", dst),))
    best: tuple[float, str, str, str] | None = None
    ia, ii = graph.index(a), graph.index(item)
    for rel, node_type, name, m, pop in context.attributes:
        both = set(m.indices[m.indptr[ia]:m.indptr[ia + 1]].tolist()).intersection(
            m.indices[m.indptr[ii]:m.indptr[ii + 1]].tolist())
        if both:
            x = min(sorted(both), key=pop.__getitem__)  # the first least popular
            if best is None or pop[x] < best[0]:
                best = (float(pop[x]), name, rel, graph.node_id(node_type, x))
    if best is None:
        return None
    _, name, rel, node = best
    return f"same_{name}", ((node, item), ((a, rel, node), (item, rel, node)))


def _popularity_path(context: UserReasons, item_id: str, min_people: int
                     ) -> Candidate | None:
    """Through the item's most specific category the user is into, else one holding a
    product of theirs (the strongest, then the first), else one whose broader category the
    user is into, else the item's most specific brand or concept the user is into; the
    sentence's note counts the people who showed interest in the item (if at least
    ``min_people``)."""
    graph = context.graph
    i = graph.index(item_id)
    seen = doers_matrix(graph, ENGAGED)
    n = int(seen.indptr[i + 1] - seen.indptr[i]) if i < seen.shape[1] else 0
    note = f"; {n} people showed interest in it" if n >= min_people else ""
    found = _through_category(context, item_id)
    if found is None:
        found = _interest_attribute(context, item_id)
    return None if found is None else (1.0, found[0], found[1], found[2], note)


def _through_category(context: UserReasons, item_id: str
                      ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """The category routes of :func:`_popularity_path` (type, nodes, edges), or None."""
    if not context.has("product", "in_category", "category"):
        return None
    graph, user_id = context.graph, context.user_id
    cats, pop = context.categories()
    i = graph.index(item_id)
    mine = cats.indices[cats.indptr[i]:cats.indptr[i + 1]]
    if not len(mine):
        return None
    mine = mine[np.argsort(pop[mine], kind="stable")]
    theirs = context.theirs()
    for c in mine.tolist():
        if c in theirs:
            cat = graph.node_id("category", c)
            return ("popularity>interest", (user_id, cat, item_id),
                    ((user_id, "interested_in", cat), (item_id, "in_category", cat)))
    found = _in_your_category(context, item_id, mine)
    if found is None and theirs:
        found = _in_your_broader(graph, user_id, item_id, mine, theirs)
    return found


def _interest_attribute(context: UserReasons, item_id: str
                        ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -interested_in-> E <-made_by/about- item``: the item's least popular brand or
    concept the user is into, or None."""
    graph, user_id = context.graph, context.user_id
    into = {e.dst for e in graph.neighbors(user_id, "interested_in")} \
        if graph.has_node(user_id) else set()
    best: tuple[float, str, str, str] | None = None
    for rel, node_type, name in ATTRIBUTES:
        if node_type == "category":
            continue
        for e in graph.neighbors(item_id, rel):
            if e.dst in into and e.dst.startswith(f"{node_type}:"):
                pop = float(entity_popularity(graph, node_type)[graph.index(e.dst)])
                if best is None or pop < best[0]:
                    best = (pop, name, rel, e.dst)
    if best is None:
        return None
    _, name, rel, node = best
    return (f"popularity>interest_{name}", (user_id, node, item_id),
            ((user_id, "interested_in", node), (item_id, rel, node)))


def _in_your_category(context: UserReasons, item_id: str, mine: np.ndarray
                      ) -> tuple[str, tuple[str, ...], tuple[EdgeTriple, ...]] | None:
    """``You -did-> A -in_category-> C <-in_category- item``: the first of the item's
    categories ``mine`` holding one of the user's products (the strongest relation first)."""
    graph, user_id = context.graph, context.user_id
    i = graph.index(item_id)
    products, held = context.products()  # the user's products x every category
    for c in mine.tolist():
        rows = held.indices[held.indptr[c]:held.indptr[c + 1]]
        rows = rows[products[rows] != i]
        if len(rows):
            a = int(products[rows.min()])
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
    if not _has_block(graph, "category", "broader", "category"):
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
