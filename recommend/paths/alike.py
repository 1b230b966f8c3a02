"""What a content path says two products share: the middle of ``You -did-> A ... item``.

The content component compared the products' texts (:func:`recommend.content.item_vectors.
product_text`: title, brand, the whole category path, attributes), so a path may say what
both texts hold and the graph stores: a ``similar`` edge, else the most specific brand,
category or concept both have, else a category one ``broader`` hop above a category of each
(:func:`shared_path`). Used by :mod:`recommend.paths.reasons`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommend.paths.user_reasons import has_block

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.user_reasons import UserReasons

__all__ = ["shared_path"]

EdgeTriple = tuple[str, str, str]


def shared_path(context: UserReasons, a: str, item: str
                ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """What content path joins ``a`` to ``item``: a stored ``similar`` edge, else the most
    specific brand, category or concept both have, else a category one ``broader`` hop above
    a category of each (:func:`_broader`) ((type, (nodes after a, edges)))."""
    graph = context.graph
    if has_block(context.graph, "product", "similar", "product"):
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
        return _broader(context, a, item)
    _, name, rel, node = best
    return f"same_{name}", ((node, item), ((a, rel, node), (item, rel, node)))


def _broader(context: UserReasons, a: str, item: str
                    ) -> tuple[str, tuple[tuple[str, ...], tuple[EdgeTriple, ...]]] | None:
    """When ``a`` and ``item`` share no brand, category or concept: the least popular
    category B one ``broader`` hop above a category of each (or of one, the other being in
    B itself): ``a -in_category-> C -broader-> B <-broader- C' <-in_category- item``
    ("both are Skin Care"). The content text of a product holds its whole category path
    (:func:`recommend.content.item_vectors.product_text`), so B is in both texts the content
    component compared. Only that pattern: no longer climb, no other relation."""
    graph = context.graph
    if not (has_block(context.graph, "product", "in_category", "category")
            and has_block(context.graph, "category", "broader", "category")):
        return None
    cats, pop = context.categories()
    up = graph.matrix("broader", dst_type="category", src_type="category")

    def reach(product: str) -> dict[int, int | None]:
        """Each category at most one hop above the product's own -> the own category it
        is reached from (None: the product is in it)."""
        i = graph.index(product)
        own = cats.indices[cats.indptr[i]:cats.indptr[i + 1]].tolist() \
            if i < cats.shape[0] else []
        out: dict[int, int | None] = dict.fromkeys(own)
        for c in own:
            if c < up.shape[0]:
                for b in up.indices[up.indptr[c]:up.indptr[c + 1]].tolist():
                    out.setdefault(b, c)
        return out

    mine, theirs = reach(a), reach(item)
    both = [b for b in mine if b in theirs and (mine[b] is not None or theirs[b] is not None)]
    if not both:
        return None
    b = min(sorted(both), key=pop.__getitem__)  # the first least popular
    top = graph.node_id("category", b)
    my_nodes, my_edges = _climb(graph, a, mine[b], top)
    their_nodes, their_edges = _climb(graph, item, theirs[b], top)
    return "broader_category", ((*my_nodes, top, *their_nodes, item),
                                (*my_edges, *reversed(their_edges)))


def _climb(graph: KnowledgeGraph, product: str, own: int | None, top: str
           ) -> tuple[list[str], list[EdgeTriple]]:
    """The nodes between ``product`` and the category ``top`` and the edges up to it:
    ``product`` in ``top`` itself (``own`` None), or in its category ``own`` one ``broader``
    hop below ``top``."""
    if own is None:
        return [], [(product, "in_category", top)]
    c = graph.node_id("category", own)
    return [c], [(product, "in_category", c), (c, "broader", top)]
