"""What a user's evidence paths (:mod:`recommend.paths.reasons`) read from the graph.

A request explaining ``k`` items asks the same questions of the graph for each: which
relation blocks hold edges, the user's own products and their strongest relation to each
(the first hop of every cf, session and content path), the attribute matrices the content
and popularity paths join through, the categories the user is into and the posts they
acted on. :class:`UserReasons` gathers them once per request, lazily (a question no path
asks is never asked); the relation tables below say which edges count, strongest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from kg.links import STRONGEST_FIRST
from recommend.paths.privacy import ENGAGED, doers_matrix, interactions_of
from recommend.paths.quality import entity_popularity
from recommend.paths.walks import spans

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["ATTRIBUTES", "OWN_RELATIONS", "POST_RELATIONS", "UserReasons", "has_block",
           "own_products"]

#: A user's own relations to a product, strongest first: the first hop of an evidence path.
OWN_RELATIONS = STRONGEST_FIRST
#: A user's own relations to a post, strongest first (a content path's first hop to a
#: product the post mentions; the content profile's kind weights, user_vectors).
POST_RELATIONS = ("authored", "shared", "liked", "commented", "clicked", "viewed")
#: Attributes two products can share (relation, node type, type name), for content.
ATTRIBUTES = (("made_by", "brand", "brand"), ("in_category", "category", "category"),
              ("about", "concept", "concept"))


def own_products(graph: KnowledgeGraph, user_id: str) -> dict[int, str]:
    """The user's products (graph indices) -> their strongest own relation to each."""
    out: dict[int, str] = {}
    if not graph.has_node(user_id):
        return out
    u = graph.index(user_id)
    for rel, m in _own_matrices(graph):
        if u < m.shape[0]:
            for a in m.indices[m.indptr[u]:m.indptr[u + 1]].tolist():
                out.setdefault(a, rel)
    return out


def _own_matrices(graph: KnowledgeGraph, node_type: str = "product"
                  ) -> list[tuple[str, sp.csr_matrix]]:
    """(relation, users x ``node_type`` matrix) of each of :data:`OWN_RELATIONS` (posts:
    :data:`POST_RELATIONS`) the graph holds edges of, in that order; kept until the graph
    changes (each request reads them)."""
    relations = OWN_RELATIONS if node_type == "product" else POST_RELATIONS
    return graph.cached(("own matrices", node_type), lambda: [
        (rel, graph.matrix(rel, dst_type=node_type, src_type="user"))
        for rel in relations if has_block(graph, "user", rel, node_type)])


def _attributes(graph: KnowledgeGraph) -> list[tuple[str, str, str, sp.csr_matrix, np.ndarray]]:
    """:attr:`UserReasons.attributes`: (relation, node type, type name, products x entities,
    the entities' popularity) of each of :data:`ATTRIBUTES` the graph holds edges of; kept
    until the graph changes (each request reads them)."""
    return graph.cached(("user reasons attributes",), lambda: [
        (rel, node_type, name, graph.matrix(rel, dst_type=node_type, src_type="product"),
         entity_popularity(graph, node_type))
        for rel, node_type, name in ATTRIBUTES if has_block(graph, "product", rel, node_type)])


class UserReasons:
    """What :func:`~recommend.paths.reasons.evidence_paths` asks of the graph for one user,
    gathered once per request: the attribute matrices and their entities' popularity, the
    user's products by strength and the categories they hold, the categories the user is
    into, the posts they acted on (which blocks hold edges: :func:`has_block`). Made by
    ``evidence_paths`` when not given; a request explaining ``k`` items makes one
    (the answers are the same either way)."""

    def __init__(self, graph: KnowledgeGraph, user_id: str, own: dict[int, str]) -> None:
        self.graph, self.user_id, self.own = graph, user_id, own
        self.blocks = nonempty_blocks(graph)
        self.attributes = _attributes(graph)
        self._categories: tuple[sp.csr_matrix, np.ndarray] | None = None
        self._theirs: set[int] | None = None
        self._products: tuple[list[int], tuple[np.ndarray, np.ndarray]] | None = None
        self._posts: tuple[sp.csc_matrix, dict[str, set[int]]] | None = None
        self._held: dict[str, list[set[int]]] = {}
        self._engaged: sp.csc_matrix | None = None
        self._interests: dict[str, set[int]] = {}
        self._index: dict[str, int] = {}
        self._interest_counts: np.ndarray | None = None
        #: product index -> its categories' ancestors (:func:`recommend.paths.alike.ancestors`)
        self.ancestry: dict[int, dict[int, tuple[int, ...]]] = {}
        self._links: dict[tuple[str, str], sp.csr_matrix] = {}

    def index(self, node: str) -> int:
        """``node``'s graph index, -1 when the graph lacks it (kept for the request: a
        product of the user's is compared with each item it explains)."""
        found = self._index.get(node)
        if found is None:
            graph = self.graph
            found = self._index[node] = graph.index(node) if graph.has_node(node) else -1
        return found

    def link_matrix(self, relation: str, node_type: str = "product") -> sp.csr_matrix:
        """The ``node_type`` x ``node_type`` matrix of ``relation`` (asked once for the
        request)."""
        found = self._links.get((relation, node_type))
        if found is None:
            found = self._links[(relation, node_type)] = self.graph.matrix(
                relation, dst_type=node_type, src_type=node_type)
        return found

    def has(self, block: tuple[str, str, str]) -> bool:
        """:func:`has_block` of ``(source type, relation, destination type)``, read from the
        blocks gathered for the request (each path asks a few)."""
        return block in self.blocks

    def held(self, product: str) -> list[set[int]]:
        """Per :attr:`attributes` entry, the entities ``product`` has (kept for the
        request: a product of the user's is compared with each item it explains)."""
        found = self._held.get(product)
        if found is None:
            i = self.graph.index(product)
            found = self._held[product] = [set(m.indices[m.indptr[i]:m.indptr[i + 1]].tolist())
                                           for _, _, _, m, _ in self.attributes]
        return found

    def engaged(self) -> sp.csc_matrix:
        """Who showed interest in each product (:func:`~recommend.paths.privacy.doers_matrix`
        of :data:`~recommend.paths.privacy.ENGAGED`), asked once for the request: each
        popularity path counts its item's column."""
        if self._engaged is None:
            self._engaged = doers_matrix(self.graph, ENGAGED)
        return self._engaged

    def interest_count(self, i: int) -> int:
        """How many people showed interest in product index ``i`` (its :meth:`engaged`
        column's entries; 0 past them): every product's, counted once per graph version."""
        if self._interest_counts is None:
            self._interest_counts = self.graph.cached_for(
                ("user reasons interest counts",), interactions_of(ENGAGED),
                lambda: np.diff(self.engaged().indptr))
        counts = self._interest_counts
        return int(counts[i]) if 0 <= i < len(counts) else 0

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
            if self.has(("user", "interested_in", "category")):
                into = self.graph.matrix("interested_in", dst_type="category", src_type="user")
                u = self.graph.index(self.user_id)
                self._theirs = set(into.indices[into.indptr[u]:into.indptr[u + 1]].tolist())
        return self._theirs

    def interests(self, node_type: str) -> set[int]:
        """The ``node_type`` entities the user is ``interested_in`` (kept for the request:
        each popularity path asks them of its item)."""
        found = self._interests.get(node_type)
        if found is None:
            found = self._interests[node_type] = set()
            if self.has(("user", "interested_in", node_type)):
                into = self.graph.matrix("interested_in", dst_type=node_type, src_type="user")
                u = self.graph.index(self.user_id)
                if u < into.shape[0]:
                    found.update(into.indices[into.indptr[u]:into.indptr[u + 1]].tolist())
        return found

    def posts(self) -> tuple[sp.csc_matrix, dict[str, set[int]]] | None:
        """(posts x products ``mentions`` by column, per relation of :data:`POST_RELATIONS`
        the user has, the posts they have it to), or None when no post mentions a
        product."""
        if self._posts is None:
            graph = self.graph
            if not self.has(("post", "mentions", "product")):
                return None
            mentions = graph.cached(("post mentions by product",), lambda: graph.matrix(
                "mentions", dst_type="product", src_type="post").tocsc())
            mine: dict[str, set[int]] = {}
            u = graph.index(self.user_id)
            for rel, m in _own_matrices(graph, "post"):
                if u < m.shape[0] and m.indptr[u + 1] > m.indptr[u]:  # (a set per relation)
                    mine[rel] = set(m.indices[m.indptr[u]:m.indptr[u + 1]].tolist())
            self._posts = (mentions, mine)
        return self._posts

    def products(self) -> tuple[list[int], tuple[np.ndarray, np.ndarray]]:
        """The user's products, strongest relation first (then by index), and which of them
        each category holds: ``(indptr, rows)``, category c's positions in that list being
        ``rows[indptr[c]:indptr[c + 1]]`` (ascending: the CSC form of those products x
        categories, built with numpy rather than a sparse slice)."""
        if self._products is None:
            strength = {rel: k for k, rel in enumerate(OWN_RELATIONS)}
            products = np.array([a for _, a in sorted((strength[r], a)
                                                      for a, r in self.own.items())], np.int64)
            cats = self.categories()[0]
            lo, hi = cats.indptr[products], cats.indptr[products + 1]
            pos = spans(lo, hi)
            column = cats.indices[pos]
            order = column.argsort(kind="stable")  # by category, then position
            counts = np.bincount(column, minlength=cats.shape[1])
            indptr = np.concatenate(([0], counts.cumsum()))
            rows = np.arange(len(products)).repeat(hi - lo)[order]
            self._products = (products.tolist(), (indptr, rows))
        return self._products


def nonempty_blocks(graph: KnowledgeGraph) -> frozenset[tuple[str, str, str]]:
    """The (source type, relation, destination type) of every block holding edges (kept
    until the graph changes)."""
    return graph.cached(("non-empty blocks",), lambda: frozenset(
        (c.src_type, c.relation, c.dst_type) for c in graph.edge_blocks() if len(c)))


def has_block(graph: KnowledgeGraph, src: str, rel: str, dst: str) -> bool:
    """Whether ``graph`` holds a ``src -rel-> dst`` edge of these node types."""
    return (src, rel, dst) in nonempty_blocks(graph)
