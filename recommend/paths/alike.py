"""What a content path says two products share: the middle of ``You -did-> A ... item``.

The content component compared the products' texts (:func:`recommend.content.item_vectors.
product_text`: title, brand, the whole category path, attributes), so a path may say what
both texts hold and the graph stores: a ``similar`` edge, else the most specific brand,
category or concept both have, else a stored ``described_like`` edge (one is among the
other's nearest in text: :mod:`kg.described_like`), else the nearest category both reach
over ``broader`` edges (:func:`shared_path`). Used by :mod:`recommend.paths.reasons`; a
sentence says such a climb in one clause (:func:`climb_span`, :func:`climb_words`: "both
kinds of Skin Care").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import scipy.sparse as sp

    from kg.graph import KnowledgeGraph
    from recommend.paths.user_reasons import UserReasons

__all__ = ["ancestors", "climb_span", "climb_words", "shared_path", "shares_any",
           "stored_link"]

EdgeTriple = tuple[str, str, str]


def shared_path(context: UserReasons, a: str, item: str
                ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """What content path joins ``a`` to ``item``: a stored ``similar`` edge, else the most
    specific brand, category or concept both have, else a stored ``described_like`` edge
    (after what both texts name: it says less), else the nearest category both reach over
    ``broader`` edges (:func:`_broader`) ((type, (nodes after a, edges)))."""
    graph = context.graph
    if context.has(("product", "similar", "product")):
        edge = stored_link(graph, "similar", a, item)
        if edge is not None:
            return "similar", ((item,), (edge,))
    best: tuple[float, str, str, str, int] | None = None
    for (rel, node_type, name, _, pop), mine, theirs in zip(
            context.attributes, context.held(a), context.held(item), strict=True):
        both = mine & theirs
        if both:  # the first least popular (a product holds a few)
            x = min(sorted(both), key=pop.__getitem__) if len(both) > 1 else next(iter(both))
            value = pop[x]
            if best is None or value < best[0]:
                best = (float(value), name, rel, node_type, x)
    if best is None:
        return _described_like(context, a, item) or _broader(context, a, item)
    _, name, rel, node_type, x = best
    node = graph.node_id(node_type, x)
    return f"same_{name}", ((node, item), ((a, rel, node), (item, rel, node)))


def shares_any(context: UserReasons, a: str, item: str) -> bool:
    """Whether :func:`shared_path` finds ``a`` and ``item`` a path (some brand, category or
    concept both have answers it without choosing the least popular one)."""
    if any(mine & theirs for mine, theirs in zip(context.held(a), context.held(item),
                                                 strict=True)):
        return True
    return shared_path(context, a, item) is not None


def _described_like(context: UserReasons, a: str, item: str
                    ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """A stored ``described_like`` edge between ``a`` and ``item`` (either way: the cosine of
    their texts is symmetric; :mod:`kg.described_like`), or None."""
    if not context.has(("product", "described_like", "product")):
        return None
    m, i, j = context.link_matrix("described_like"), context.index(a), context.index(item)
    for src, dst, r, c in ((a, item, i, j), (item, a, j, i)):  # (stored_link's reading)
        if 0 <= r < m.shape[0] and c in m.indices[m.indptr[r]:m.indptr[r + 1]].tolist():
            return "described_like", ((item,), ((src, "described_like", dst),))
    return None


def stored_link(graph: KnowledgeGraph, rel: str, a: str, b: str) -> EdgeTriple | None:
    """The stored ``rel`` edge between products ``a`` and ``b``: ``a -> b`` if there is one,
    else ``b -> a``, else None (what :meth:`KnowledgeGraph.has_edge` finds each way, read
    from the relation's products x products matrix: an edge of any weight is an entry)."""
    if not (graph.has_node(a) and graph.has_node(b)):
        return None
    m = graph.matrix(rel, dst_type="product", src_type="product")
    i, j = graph.index(a), graph.index(b)
    for (src, dst), (r, c) in (((a, b), (i, j)), ((b, a), (j, i))):
        if r < m.shape[0] and c in m.indices[m.indptr[r]:m.indptr[r + 1]].tolist():
            return (src, rel, dst)
    return None


def _broader(context: UserReasons, a: str, item: str
             ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """When ``a`` and ``item`` share no brand, category or concept: their nearest common
    ancestor X over ``broader`` edges (the fewest hops in all, then the least popular, then
    the first), however far up, each side in X itself or below it:
    ``a -in_category-> C -broader-> ... -> X <- ... <-broader- C' <-in_category- item``
    ("both are kinds of Skin Care"). The content text of a product holds its whole category
    path (:func:`recommend.content.item_vectors.product_text`), so X is in both texts the
    content component compared. Only that pattern: no other relation."""
    graph = context.graph
    if not (context.has(("product", "in_category", "category"))
            and context.has(("category", "broader", "category"))):
        return None
    pop = context.categories()[1]
    mine, theirs = ancestors(context, context.index(a)), ancestors(context, context.index(item))
    both = [x for x in mine if x in theirs and len(mine[x]) + len(theirs[x]) > 2]
    if not both:
        return None
    x = min(both, key=lambda b: (len(mine[b]) + len(theirs[b]), pop[b], b))
    my_nodes, my_edges = _climb(graph, a, mine[x])
    their_nodes, their_edges = _climb(graph, item, theirs[x])
    return "broader_category", ((*my_nodes, *reversed(their_nodes[:-1]), item),
                                (*my_edges, *reversed(their_edges)))


def ancestors(context: UserReasons, i: int) -> dict[int, tuple[int, ...]]:
    """:func:`_ancestors` of product index ``i``, kept for the request (its items and the
    user's products are compared with several of each other)."""
    found = context.ancestry.get(i)
    if found is None:
        up = context.link_matrix("broader", "category")
        found = context.ancestry[i] = _ancestors(context.categories()[0], up, i)
    return found


def _ancestors(cats: sp.csr_matrix, up: sp.csr_matrix, i: int) -> dict[int, tuple[int, ...]]:
    """Each category product ``i`` is in or reaches over ``broader`` edges -> the shortest
    chain to it from one of the product's own categories (own first, it last; breadth
    first, so equal lengths keep the first found by index)."""
    own = cats.indices[cats.indptr[i]:cats.indptr[i + 1]].tolist() \
        if 0 <= i < cats.shape[0] else []
    out: dict[int, tuple[int, ...]] = {c: (c,) for c in sorted(own)}
    frontier = list(out)
    while frontier:
        found = []
        for c in frontier:
            for b in (up.indices[up.indptr[c]:up.indptr[c + 1]].tolist()
                      if c < up.shape[0] else []):
                if b not in out:
                    out[b] = (*out[c], b)
                    found.append(b)
        frontier = found
    return out


def _climb(graph: KnowledgeGraph, product: str, chain: tuple[int, ...]
           ) -> tuple[list[str], list[EdgeTriple]]:
    """The nodes after ``product`` up to the top of ``chain`` (its category, then each
    ``broader`` one) and the edges climbing them."""
    ids = [graph.node_id("category", c) for c in chain]
    edges = [(product, "in_category", ids[0])]
    edges += [(lo, "broader", hi) for lo, hi in itertools.pairwise(ids)]
    return ids, edges


def climb_span(nodes: Sequence[str], edges: Sequence[EdgeTriple]) -> tuple[int, int] | None:
    """``(first, last)`` edge positions of a :func:`_broader` middle in a path
    (``A -in_category-> C -broader-> ... X ... <-in_category- item``, at least one
    ``broader`` hop), else None: a sentence says it as one clause (:func:`climb_words`)."""
    for t, (src, rel, _) in enumerate(edges):
        if rel != "in_category" or src != nodes[t]:
            continue
        s = t + 1
        while s < len(edges) and edges[s][1] == "broader":
            s += 1
        if s > t + 1 and s < len(edges) and edges[s][1] == "in_category" \
                and edges[s][0] == nodes[s + 1]:
            return t, s
    return None


def climb_words(names: Mapping[str, str], nodes: Sequence[str], edges: Sequence[EdgeTriple],
                span: tuple[int, int]) -> str:
    """The clause for a :func:`climb_span` ``span`` of a path (``names``: each node's
    words): "A is in Face Creams and B in Body Lotions, both kinds of Skin Care" (a kind of a
    kind is a kind: the hops between are not said)."""
    first, last = span
    top = first + 1
    while top < last and edges[top][0] == nodes[top]:  # up to the last upward hop
        top += 1
    a, b, x = names[nodes[first]], names[nodes[last + 1]], names[nodes[top]]
    own_a, own_b = nodes[first + 1], nodes[last]
    if own_a == nodes[top]:
        return f"{a} is in {x} and {b} is in {names[own_b]}, a kind of {x}"
    if own_b == nodes[top]:
        return f"{a} is in {names[own_a]}, a kind of {x}, and {b} is in {x}"
    return f"{a} is in {names[own_a]} and {b} in {names[own_b]}, both kinds of {x}"
