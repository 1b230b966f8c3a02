"""Paths for the components that are not meta-paths: cf, session, content and popularity.

:mod:`recommend.hybrid.evidence` says which of the user's own products carry such a
component's score of an item (exactly, for the linear ones). Each becomes a path of stored
edges that says what that component saw, never more:

- ``cf`` learned from people who did both: ``You -did-> A -co_did-> item``,
  the second hop an aggregate over at least ``min_people`` people
  (:data:`recommend.paths.privacy.LINK_AGGREGATES`, strongest first), else a stored
  ``also_bought`` / ``bought_together`` / ``also_viewed`` link, else a rules-made
  ``co_bought`` bought by ``min_people`` people; a product cf learned from the user's posts
  alone (the post tier) starts ``You -liked-> post -mentions-> A`` and goes on over
  ``co_posted`` (people who engaged with posts about both);
- ``session`` counted people who took the item soon after A: ``You -did-> A -next-> item``
  over its own hop (:mod:`recommend.paths.sequence`: within its window and lag, each
  pair's latest time), at least ``min_people`` people (type ``"session>next"``); "people
  who rated A also rated B" is not what it counted, so it is never said for it;
- ``content`` compared texts: ``You -did-> A -made_by-> brand <-made_by- item`` (or the same
  category or concept: the most specific one they share), or a stored ``similar`` edge; when
  they share none of those, a stored ``described_like`` edge (one is among the other's
  nearest in text), else the nearest category both reach over ``broader`` edges ("A is
  in Face Creams and B in Serums, both kinds of Skin Care": a product's text holds its whole
  category path, type ``"content>broader_category"``). The
  content profile also holds the products of the posts the user wrote, liked, shared or
  commented on (:mod:`recommend.content.user_vectors`): a product A reached only so starts
  ``You -liked-> post -mentions-> A`` (when A is the item itself, that is the whole path:
  ``content>post``);
- ``popularity`` is not the user's: the path goes through a category of the item that the
  user engaged with (``You are into C``, ``You bought A, in C``, or ``You are into P``, of
  which the item's C is a kind), else a brand or concept of the item the user is into, and
  the sentence adds how many people showed interest in the item
  (:mod:`recommend.paths.popular_paths`).

A product with no such hop gives no path (the next one is tried): nothing is made up. The
first hop is the user's own strongest stored edge to A (purchase first, view last; for
content, else to a post that mentions A: written first, viewed last). A
path's type (its ``metapath``) is ``"<component>><how>"``, e.g. ``"cf>co_purchased"``.
What the paths read of the user is gathered once per request by
:class:`recommend.paths.user_reasons.UserReasons`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from recommend.paths.alike import shared_path, shares_any
from recommend.paths.co_people import CoActing, co_acting_any, kept_count
from recommend.paths.popular_paths import popularity_path
from recommend.paths.privacy import (
    AGGREGATES,
    LINK_AGGREGATES,
    interactions_of,
    people,
)
from recommend.paths.sequence import SEQUENCE_KIND
from recommend.paths.user_reasons import (
    ATTRIBUTES,
    OWN_RELATIONS,
    POST_RELATIONS,
    UserReasons,
    has_block,
    own_products,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.evidence import Evidence

__all__ = ["SHARED", "ContentFloor", "cf_may_link", "evidence_paths", "evidence_types",
           "least_values"]

EdgeTriple = tuple[str, str, str]
#: What a content path must carry to be shown, less what the paths it may be carry
#: (:func:`evidence_paths`' ``unseen``): (a bound, per second node (type, index) of such paths
#: what they carry).
ContentFloor = tuple[float, dict[tuple[str, int], float]]

#: Stored product links that record co-interaction (loaded datasets' relations).
STORED_LINKS = ("also_bought", "bought_together", "also_viewed")
#: One candidate: (fraction of the component's score, type, nodes, edges, note).
Candidate = tuple[float, str, tuple[str, ...], tuple[EdgeTriple, ...], str]
#: A path's start: (nodes, edges).
Route = tuple[tuple[str, ...], tuple[EdgeTriple, ...]]
#: A product's route through the user's posts and that post as :data:`ContentFloor` keys it
#: (:func:`_post_start`), or (None, None).
PostStart = tuple[Route, tuple[str, int]] | tuple[None, None]


def evidence_paths(
    graph: KnowledgeGraph, user_id: str, item_id: str, evidence: Sequence[Evidence],
    own: dict[int, str], *, min_people: int, per_component: int = 3,
    context: UserReasons | None = None, unseen: ContentFloor | None = None,
    via_posts: dict[str, PostStart] | None = None,
) -> list[tuple[str, float, Candidate]]:
    """``(component, component share, candidate)`` for up to ``per_component`` paths of each
    :class:`~recommend.hybrid.evidence.Evidence` of ``item_id`` (module doc); ``context``:
    the user's :class:`UserReasons` (over the same ``own``), reused across items. Links come
    largest first, so the paths whose value (share times fraction) reaches a bound
    (:func:`least_values`) lead each component's.

    ``unseen``: a content path whose second node is x (the user's product or post) and whose
    value is below ``unseen[0] - unseen[1].get(x, 0)`` (what it must carry, besides what the
    meta-path paths it may be carry, to reach the item's floor), less the popularity path's
    value when that path starts so too, is counted among the component's paths but not
    made: it would not be shown. ``via_posts``: each product's route through the user's posts
    (:func:`_post_start`), kept across the items of a request (given with ``context``)."""
    out: list[tuple[str, float, Candidate]] = []
    if not evidence:
        return out
    context = context or UserReasons(graph, user_id, own)
    via_posts = {} if via_posts is None else via_posts
    both: CoActing | None = None  # cf hops: who acted on the item, marked once
    popular = {ev.component: (ev.share, popularity_path(context, item_id, min_people))
               for ev in evidence if ev.component == "popularity"}  # (asked once)
    if unseen is not None and popular and popular["popularity"][1] is not None:
        share, (_, _, nodes, _, _) = popular["popularity"]  # type: ignore[misc]
        if nodes[1].startswith("product:"):  # You -did-> A ...: it may be a content path
            a = ("product", graph.index(nodes[1]))
            unseen = unseen[0], {**unseen[1], a: unseen[1].get(a, 0.0) + share}
    for ev in evidence:
        found: list[Candidate] = []
        unmade = 0  # content paths counted, not made (``unseen``)
        if ev.component == "popularity":
            path = popular["popularity"][1]
            found = [] if path is None else [path]
        for a, fraction in ev.links:
            if len(found) + unmade >= per_component:
                break
            rel = own.get(a)
            prod = graph.node_id("product", a)
            if ev.component == "content":
                if rel is not None:
                    start, second = ((user_id, prod), ((user_id, rel, prod),)), ("product", a)
                else:
                    start, second = via_posts[prod] if prod in via_posts \
                        else via_posts.setdefault(prod, _post_start(context, prod))
                if start is not None and prod == item_id:  # the item is in your post itself
                    if rel is None:
                        found.append((fraction, "content>post", *start, ""))
                    continue
                if start is not None and unseen is not None and ev.share * fraction < (
                        unseen[0] - unseen[1].get(second, 0.0)):
                    unmade += shares_any(context, prod, item_id)
                    continue
                hop = None if start is None else shared_path(context, prod, item_id)
                if start is not None and hop is not None:
                    how, middle = hop
                    found.append((fraction, f"content>{how}", (*start[0], *middle[0]),
                                  (*start[1], *middle[1]), ""))
                continue
            if rel is None and ev.component == "cf" and prod != item_id:  # via posts only
                path = _post_tier_path(context, prod, item_id, min_people, via_posts)
                found += [] if path is None else [(fraction, "cf>co_posted", *path, "")]
            if rel is None or prod == item_id:  # "who bought X also bought X": says nothing
                continue
            session = ev.component == "session"
            if not session and both is None:  # (an item not in the graph: nobody acted on it)
                both = CoActing(graph, graph.index(item_id) if graph.has_node(item_id) else -1)
            edge = _sequence_hop(context, prod, item_id, min_people, ev.relation) if session \
                else _co_hop(context, (prod, a), item_id, min_people, rel, both)
            if edge is not None:
                how = SEQUENCE_KIND if session else edge[1]
                found.append((fraction, f"{ev.component}>{how}", (user_id, prod, item_id),
                              ((user_id, rel, prod), edge), ""))
        out += [(ev.component, ev.share, c) for c in found]
    return out


def _post_start(context: UserReasons, prod: str) -> PostStart:
    """:func:`_via_post`'s route to ``prod`` and its second node (the post) as
    :data:`ContentFloor` keys it, or (None, None)."""
    route = _via_post(context, prod)
    return (None, None) if route is None else (route, ("post", context.graph.index(route[0][1])))


def _post_tier_path(context: UserReasons, prod: str, item: str, min_people: int,
                    via_posts: dict[str, PostStart]) -> Route | None:
    """``You -did-> post -mentions-> prod -co_posted-> item`` when cf learned ``prod`` from
    the user's posts (the post tier) and at least ``min_people`` people engaged with posts
    about both, else None."""
    route, _ = via_posts[prod] if prod in via_posts \
        else via_posts.setdefault(prod, _post_start(context, prod))
    edge = (prod, "co_posted", item)
    if route is None or people(context.graph, edge) < min_people:
        return None
    return (*route[0], item), (*route[1], edge)


def cf_may_link(graph: KnowledgeGraph, user_id: str, items: np.ndarray, min_people: int,
                own: dict[int, str] | None = None, *, posts: bool = False) -> np.ndarray:
    """Per product index of ``items``, whether :func:`evidence_paths` may find the user a cf
    path to it: the graph holds a stored product link (:data:`STORED_LINKS`), or some
    product of the user's has at least ``min_people`` people who acted on it and the item
    (every other hop :func:`_co_hop` makes counts no more: :mod:`recommend.paths.co_people`).
    Where not, the item's cf evidence gives no path: it need not be found. ``own``: the
    user's :func:`~recommend.paths.user_reasons.own_products`, when the caller has them;
    ``posts``: cf learned from the post tier (a path through the user's posts: not ruled
    out here)."""
    if posts or any(has_block(graph, "product", rel, "product") for rel in STORED_LINKS):
        return np.ones(len(items), bool)
    own = own_products(graph, user_id) if own is None else own
    return co_acting_any(graph, np.fromiter(own, np.int64, len(own)), items, min_people,
                         kinds=set(own.values()) & _LINKED)


#: The components whose evidence paths may be the same path: a product of the user's in a
#: category of the item (content's "same category", popularity's "in your category"). The
#: others' last hops are each their own kind of relation; any may be a graph meta-path's.
SHARED = ("content", "popularity")


def least_values(evidence: Sequence[Sequence[Evidence]], graph_max: Sequence[float],
                 floors: Sequence[float], room: float) -> list[dict[str, float]]:
    """Per item, per component of its ``evidence``: the least value a path of it must carry
    to reach the item's floor (times ``room``, for rounding) however it merges: the same
    path carries besides at most the item's largest meta-path path (``graph_max``) and the
    largest path of the other :data:`SHARED` component (a link's value is its component's
    share times a fraction of at most 1; popularity's one path, the share)."""
    out: list[dict[str, float]] = []
    for item_evidence, most, floor in zip(evidence, graph_max, floors, strict=True):
        top = {ev.component: ev.share * max([f for _, f in ev.links], default=1.0)
               for ev in item_evidence if ev.component in SHARED}
        out.append({ev.component: floor * room - most - sum(
            v for c, v in top.items() if c != ev.component) for ev in item_evidence})
    return out


def evidence_types(graph: KnowledgeGraph, components: Sequence[str], *,
                   post_tier: bool = False) -> set[str]:
    """The path types :func:`evidence_paths` can give on ``graph`` for ``components``
    (``post_tier``: cf learned from the post tier, so its paths may go through posts)."""
    out: set[str] = set()
    links = [a for a in LINK_AGGREGATES
             if any(has_block(graph, "user", r, "product")
                    for r in interactions_of(AGGREGATES[a].interaction))]
    links += [r for r in (*STORED_LINKS, "co_bought") if has_block(graph, "product", r,
                                                                    "product")]
    for name in components:
        if name == "cf":
            out |= {f"cf>{r}" for r in links}
            if post_tier and has_block(graph, "post", "mentions", "product") and any(
                    has_block(graph, "user", r, "post") for r in POST_RELATIONS):
                out.add("cf>co_posted")
        elif name == "session":
            out.add(f"session>{SEQUENCE_KIND}")
        elif name == "content":
            out |= {f"content>same_{n}" for r, t, n in ATTRIBUTES
                    if has_block(graph, "product", r, t)}
            if has_block(graph, "product", "in_category", "category") and has_block(
                    graph, "category", "broader", "category"):
                out.add("content>broader_category")
            for rel in ("similar", "described_like"):
                if has_block(graph, "product", rel, "product"):
                    out.add(f"content>{rel}")
            if has_block(graph, "post", "mentions", "product") and any(
                    has_block(graph, "user", r, "post") for r in POST_RELATIONS):
                out.add("content>post")
        elif name == "popularity":
            if has_block(graph, "product", "in_category", "category"):
                out.add("popularity>category")
                if has_block(graph, "user", "interested_in", "category"):
                    out.add("popularity>interest")
                    if has_block(graph, "category", "broader", "category"):
                        out.add("popularity>interest_broader")
            out |= {f"popularity>interest_{n}" for r, t, n in ATTRIBUTES if t != "category"
                    and has_block(graph, "user", "interested_in", t)
                    and has_block(graph, "product", r, t)}
    return out


def _via_post(context: UserReasons, prod: str) -> Route | None:
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
        theirs = mine.get(rel)  # (the user's posts of that relation)
        ids = sorted(graph.node_id("post", q) for q in posts if q in theirs) if theirs else ()
        if ids:
            return (user_id, ids[0], prod), ((user_id, rel, ids[0]), (ids[0], "mentions", prod))
    return None


def _sequence_hop(context: UserReasons, a: str, item: str, min_people: int,
                  relation: str | None) -> EdgeTriple | None:
    """``a -> item`` over the session's own ``relation`` (:mod:`recommend.paths.sequence`)
    when at least ``min_people`` people took ``item`` so soon after ``a``, else None."""
    if relation is None:
        return None
    edge = (a, relation, item)
    return edge if people(context.graph, edge) >= min_people else None


def _co_hop(context: UserReasons, product: tuple[str, int], item: str, min_people: int,
            own: str, both: CoActing) -> EdgeTriple | None:
    """``a -> item`` over people who did both (module doc; first the aggregate of the
    user's ``own`` act on ``a``: "You viewed A; 9 people who viewed A also viewed B"), or
    None; ``product``: ``a`` and its graph index; ``both``: how many people acted on the item
    and a product (:class:`~recommend.paths.co_people.CoActing`), a bound of every kind's
    count: no kind is counted where it is below ``min_people``
    (:mod:`recommend.paths.co_people`), unless the first kind's count is kept already."""
    graph = context.graph
    a, ia = product
    names = (*_MINE[own], *LINK_AGGREGATES)
    kept = kept_count(graph, (a, names[0], item))
    if kept is not None and kept >= min_people:  # (so are the people who acted on both)
        return (a, names[0], item)
    crowded = both.at_least(ia, min_people)
    for name in names if crowded else ():
        if people(graph, (a, name, item)) >= min_people:
            return (a, name, item)
    for rel in STORED_LINKS:  # (a relation with no product -> product edge: no such edge)
        if not context.has(("product", rel, "product")):
            continue
        if graph.has_edge(a, rel, item):
            return (a, rel, item)
        if graph.has_edge(item, rel, a):
            return (item, rel, a)
    if not (crowded and context.has(("product", "co_bought", "product"))):
        return None
    for src, dst in ((a, item), (item, a)):
        if graph.has_edge(src, "co_bought", dst) and people(
                graph, (src, "co_bought", dst)) >= min_people:
            return (src, "co_bought", dst)
    return None


#: The acts of the cf links' aggregates (whose co-act tables the request may read).
_LINKED = frozenset(AGGREGATES[n].interaction for n in LINK_AGGREGATES)
#: The aggregates over each own relation ("You viewed A; people who viewed A ...").
_MINE = {own: tuple(n for n in LINK_AGGREGATES if AGGREGATES[n].interaction == own)
         for own in OWN_RELATIONS}
