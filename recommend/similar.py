"""Products like a product (:meth:`recommend.Recommender.similar`), each joined to it by paths.

Score: content cosine (text embeddings) and co-interaction cosine (users who engaged with
both, counted only where at least ``privacy.min_people`` did: a product one other person took
with the query would otherwise be listed beside it, showing what that person took), each
min-max scaled over the candidates and averaged (unfitted: there is no "similar" label).

Paths (:class:`ItemPaths`: one per query product, reused for each similar product): up to
``paths.max_paths`` paths of at most 3 hops through stored edges (either direction), from the
query product to the similar one, found from :meth:`kg.graph.KnowledgeGraph.neighbor_indices`:

- 1 hop: a product-product edge (``co_bought``, ``also_bought``, ``bought_together`` ...),
  or an aggregate co-interaction hop ("7 people who bought A also bought B",
  :data:`recommend.paths.privacy.LINK_AGGREGATES`) over at least ``min_people`` people;
- 2 hops, a shared neighbour: the rarest (fewest edges) shared brand, category, concept,
  post, product ...; never a user (what people bought, viewed or rated is shown only in
  aggregate);
- 3 hops, only while fewer than ``paths.max_paths`` kinds are found: query - x - y - item through a
  neighbour x of the query that is not a user, post or segment (the query's photo depicts a
  concept the item is about; a category broader than the item's; a product co-bought with both);
- nothing above: the shortest link of :class:`kg.links.LinkFinder` under the private link
  rules (:func:`recommend.paths.explain.link_rules`).

A path that would still show something :func:`recommend.paths.privacy.violations` forbids
(another person, a demographic segment, an aggregate over fewer than ``min_people``) is
dropped.

A path's kind is its node types (``metapath`` spells it with its relations, e.g.
``product<-purchased-user-purchased->product``). The best path of each kind comes first
(shorter kinds first, then by node type in :data:`MIDDLE_ORDER`), then the second best of
each, and so on; 3-hop paths that reach the item through a user only fill what is left.
Each reads as one sentence (:func:`recommend.paths.sentences.render_path`,
``first_person=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from kg.links import STRONGEST_FIRST, Around
from recommend.hybrid.content_component import ContentComponent
from recommend.paths.sentences import render_path
from recommend.results import ExplainedPath, Recommendation

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from kg.links import LinkFinder
    from recommend.hybrid.model import HybridModel

__all__ = ["MIDDLE_ORDER", "ItemPaths", "similar_items"]

EdgeTriple = tuple[str, str, str]
#: Kinds of 2- and 3-hop paths by the type of the node after the query (best first).
MIDDLE_ORDER = ("user", "brand", "category", "concept", "post", "product", "image", "segment")
_NOT_BRIDGES = frozenset({"user", "post", "segment"})  # x types not walked at 3 hops
PathNodes = tuple[tuple[str, ...], tuple[EdgeTriple, ...]]
# (kind, rank within the kind, the path: made only if chosen)
_Found = tuple[tuple[int, ...], int, Callable[[], PathNodes]]


def similar_items(model: HybridModel, item_id: str, k: int, *, max_paths: int | None = None,
                  explain: bool = True) -> list[Recommendation]:
    """The ``k`` products most like ``item_id`` (a typed id in the graph), best first, each
    with up to ``max_paths`` (default: the model's config) paths when ``explain``."""
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    graph = model.graph
    i = graph.index(item_id)
    described = graph.described("product")
    described[i] = False
    scores: dict[str, np.ndarray] = {}
    content = model.components.get("content")
    cosine = content.similarity(i) if isinstance(content, ContentComponent) else None
    if cosine is not None:
        scores["content"] = cosine
    seen = model.seen_
    if seen.nnz and i < seen.shape[1]:
        col = seen[:, i].toarray().ravel()
        co = np.asarray(seen.T @ col).ravel()
        co[co < model.config.privacy.min_people] = 0  # (what fewer people did: private)
        norms = np.sqrt(np.asarray(seen.sum(axis=0)).ravel() * col.sum())
        scores["cf"] = np.divide(co, norms, out=np.zeros_like(co), where=norms > 0)
    if not scores:
        return []
    from recommend.hybrid.candidates import gather
    from recommend.hybrid.normalise import normalise

    rows = {n: s[None, :] for n, s in scores.items()}
    cands = gather(rows, described[None, :], max(model.config.blend.candidates_per_component, k))
    norm = normalise(cands.features, cands.rows, 1, "minmax") / len(scores)
    total = norm.sum(axis=1)
    order = np.argsort(-total, kind="stable")[:k]
    limit = model.config.paths.max_paths if max_paths is None else max_paths
    if limit < 0:
        raise ValueError(f"max_paths must be at least 0, not {limit}")
    finder = (ItemPaths(graph, item_id, max_paths=limit,
                        min_people=model.config.privacy.min_people)
              if explain and limit > 0 else None)
    out = []
    for j in order:
        other = graph.node_id("product", int(cands.items[j]))
        out.append(Recommendation(other, float(total[j]),
                                  {n: float(norm[j, c]) for c, n in enumerate(cands.names)},
                                  finder.paths(other) if finder is not None else [],
                                  f"similar to {item_id}"))
    return out


def _neighbour_sets(node: Around) -> dict[str, np.ndarray]:
    """Per node type, the sorted distinct neighbours of ``node``."""
    found: dict[str, list[np.ndarray]] = {}
    for nb in node.blocks:
        found.setdefault(nb.node_type, []).append(nb.indices)
    return {t: np.unique(np.concatenate(parts)) for t, parts in found.items()}


def _edge(node: Around, other_type: str, other: int, other_id: str) -> EdgeTriple:
    """The stored edge joining ``node`` and ``other``: a user's strongest relation to a product
    first (:data:`kg.links.STRONGEST_FIRST`, as a recommendation's paths show it)."""
    return node.first_edge(other_type, other, other_id, prefer=STRONGEST_FIRST)


def metapath_name(nodes: tuple[str, ...], edges: tuple[EdgeTriple, ...]) -> str:
    """``product<-purchased-user-purchased->product``: a path's types and relations."""
    text = nodes[0].partition(":")[0]
    for a, (src, rel, _), b in zip(nodes[:-1], edges, nodes[1:], strict=True):
        arrow = f"-{rel}->" if src == a else f"<-{rel}-"
        text += arrow + b.partition(":")[0]
    return text


class ItemPaths:
    """Paths from one product to others (module docstring); reuse it per query product."""

    def __init__(self, graph: KnowledgeGraph, item_id: str, *, max_paths: int = 3,
                 max_expand: int = 500, min_people: int = 5) -> None:
        if max_paths < 1:
            raise ValueError(f"max_paths must be at least 1, not {max_paths}")
        if not item_id.startswith("product:"):
            raise ValueError(f"{item_id!r} is not a product id")
        self.graph, self.source = graph, item_id
        self.max_paths, self.max_expand, self.min_people = max_paths, max_expand, min_people
        self._q = Around(graph, item_id)
        self._q_sets = _neighbour_sets(self._q)
        self._bridges: list[Around] | None = None
        self._finder: LinkFinder | None = None
        self._degrees: dict[str, np.ndarray] = {}

    def paths(self, item_id: str) -> list[ExplainedPath]:
        """Up to ``paths.max_paths`` paths from the query product to ``item_id`` (KeyError naming
        it if the graph lacks it); [] when no path of at most 3 hops joins them."""
        if item_id == self.source or not item_id.startswith("product:"):
            raise ValueError(f"{item_id!r} is not a product other than {self.source!r}")
        t = Around(self.graph, item_id)
        t_sets = _neighbour_sets(t)
        found = self._one_hop(t) + self._two_hops(t, t_sets)
        if len({kind for kind, _, _ in found}) < self.max_paths:
            found += self._three_hops(t, t_sets)
        found.sort(key=lambda f: (f[1], f[0]))
        chosen = [path for path in (make() for _, _, make in found) if self._shown(path)]
        chosen = chosen[: self.max_paths]
        if not chosen:
            link = self._link(item_id)
            chosen = [] if link is None or not self._shown(link) else [link]
        return [self._explained(path) for path in chosen]

    def _shown(self, path: PathNodes) -> bool:
        """Whether the privacy rules let ``path`` be shown to anyone."""
        from recommend.paths.privacy import violations

        return not violations(self.graph, None, path[1], min_people=self.min_people)

    def _one_hop(self, t: Around) -> list[_Found]:
        q = self._q
        edges = [(q.node_id, nb.relation, t.node_id) if nb.direction == "out"
                 else (t.node_id, nb.relation, q.node_id)
                 for nb in q.blocks if nb.node_type == "product" and np.any(nb.indices == t.index)]
        edges += self._aggregate_hops(t)
        paths = [((q.node_id, t.node_id), (e,)) for e in edges]
        return [((1,), r, lambda path=path: path) for r, path in enumerate(paths)]

    def _aggregate_hops(self, t: Around) -> list[EdgeTriple]:
        """The strongest co-interaction aggregate joining the query to ``t`` over at least
        ``min_people`` people (at most one: "n people who bought A also bought B")."""
        from recommend.paths.privacy import LINK_AGGREGATES, people

        for name in LINK_AGGREGATES:
            edge = (self.source, name, t.node_id)
            if people(self.graph, edge) >= self.min_people:
                return [edge]
        return []

    def _two_hops(self, t: Around, t_sets: dict[str, np.ndarray]) -> list[_Found]:
        g, q, out = self.graph, self._q, []
        shared = self._q_sets.keys() & t_sets.keys() - {"user", "segment"}
        for typ in sorted(shared, key=MIDDLE_ORDER.index):
            common = np.intersect1d(self._q_sets[typ], t_sets[typ], assume_unique=True)
            if typ == "product":
                common = common[(common != q.index) & (common != t.index)]
            if len(common) == 0:
                continue
            deg, ranks = self._degree(typ)[common], g.id_ranks(typ)[common]
            order = np.lexsort((ranks, deg))
            kind = (2, MIDDLE_ORDER.index(typ))
            out += [(kind, r, partial(self._via, t, typ, int(common[j])))
                    for r, j in enumerate(order[: self.max_paths].tolist())]
        return out

    def _via(self, t: Around, x_type: str, x: int) -> PathNodes:
        """The path query - x - t."""
        x_id = self.graph.node_id(x_type, x)
        return ((self.source, x_id, t.node_id),
                (_edge(self._q, x_type, x, x_id), _edge(t, x_type, x, x_id)))

    def _three_hops(self, t: Around, t_sets: dict[str, np.ndarray]) -> list[_Found]:
        g = self.graph
        masks: dict[str, np.ndarray] = {}
        for typ, idx in t_sets.items():
            masks[typ] = np.zeros(g.num_nodes(typ), bool)
            masks[typ][idx] = True
        if "product" in masks:
            masks["product"][self._q.index] = False
        by_kind: dict[tuple[int, ...], list[tuple[int, str, int]]] = {}
        bridges = self._bridge_nodes()
        for b, x in enumerate(bridges):
            if (x.node_type, x.index) == (t.node_type, t.index):
                continue
            for nb in x.blocks:
                mask = masks.get(nb.node_type)
                if mask is None:
                    continue
                hits = np.unique(nb.indices[mask[nb.indices]])
                if nb.node_type == x.node_type:
                    hits = hits[hits != x.index]
                if len(hits) == 0:
                    continue
                kind = (3, int(nb.node_type == "user"), MIDDLE_ORDER.index(x.node_type),
                        MIDDLE_ORDER.index(nb.node_type))
                by_kind.setdefault(kind, []).extend((b, nb.node_type, y) for y in hits.tolist())
        out: list[_Found] = []
        for kind, cands in by_kind.items():
            y_type = cands[0][1]
            ys = np.array([y for _, _, y in cands], np.int64)
            deg = self._degree(y_type)[ys] * (-1 if y_type == "user" else 1)  # active users
            xs = np.array([b for b, _, _ in cands])  # bridges come rarest first
            order = np.lexsort((g.id_ranks(y_type)[ys], deg, xs))
            out += [(kind, r, partial(self._via3, t, bridges[cands[j][0]], y_type, cands[j][2]))
                    for r, j in enumerate(order[: self.max_paths].tolist())]
        return out

    def _via3(self, t: Around, x: Around, y_type: str, y: int) -> PathNodes:
        """The path query - x - y - t."""
        y_id = self.graph.node_id(y_type, y)
        return ((self.source, x.node_id, y_id, t.node_id),
                (_edge(self._q, x.node_type, x.index, x.node_id), _edge(x, y_type, y, y_id),
                 _edge(t, y_type, y, y_id)))

    def _degree(self, node_type: str) -> np.ndarray:
        """Every node's number of edges (both directions), per node of ``node_type``."""
        if node_type not in self._degrees:
            out = np.zeros(self.graph.num_nodes(node_type), np.int64)
            for direction in ("out", "in"):
                for _, adj in self.graph.adjacencies(node_type, direction):  # type: ignore[arg-type]
                    counts = np.diff(adj.indptr)
                    out[: len(counts)] += counts
            self._degrees[node_type] = out
        return self._degrees[node_type]

    def _bridge_nodes(self) -> list[Around]:
        """The query's neighbours walked at 3 hops (rarest first, at most ``max_expand``)."""
        if self._bridges is None:
            g, picked = self.graph, []
            for typ, idx in self._q_sets.items():
                if typ not in _NOT_BRIDGES:
                    picked += [(int(d), typ, int(j))
                               for d, j in zip(self._degree(typ)[idx], idx, strict=True)]
            picked.sort()
            self._bridges = [Around(g, g.node_id(typ, j))
                             for _, typ, j in picked[: self.max_expand]]
        return self._bridges

    def _link(self, item_id: str) -> PathNodes | None:
        from kg.links import LinkFinder
        from recommend.paths.connection import link_rules

        if self._finder is None:
            self._finder = LinkFinder(self.graph, self.source, max_expand=self.max_expand,
                                      rules=link_rules(self.graph))
        link = self._finder.link(item_id)
        return None if link is None else (link.nodes, link.edges)

    def _explained(self, path: PathNodes) -> ExplainedPath:
        nodes, edges = path
        text = render_path(self.graph, nodes, edges, first_person=False)
        return ExplainedPath(nodes, edges, text, None, metapath_name(nodes, edges), 0.0,
                             "similar")
