"""Which of the user's own products carry a non-path component's score of an item.

The graph and social components are explained by their meta-path instances
(:mod:`recommend.paths.explain`). The other components are linear in the user's own
products, so their score of item ``i`` splits exactly over them:

- ``cf`` (item-kNN, EASE: history models) and ``session``: ``score_i = sum_A h[A] W[A, i]``
  with ``h`` the user's (recency-weighted) history and ``W`` the model's item x item
  weights (the session's transitions); product A carries ``h[A] W[A, i]``. The terms are
  computed through the model's own ``score_history`` on a one-product history per A, so
  whatever the model is, the split is the one it scores with. The session also names the
  hop ``A -> i`` it counted (``Evidence.relation``: i within its window after A);
- ``content``: ``score_i = s . v_i / |s|`` with ``s = sum_A w_A v_A`` (the user's weighted
  product vectors, :mod:`recommend.content.user_vectors`). A cosine does not split over its
  terms (taking out a product that points at the item a little less than the rest raises
  the score), so A carries what taking it out of ``s`` costs the score (leave one out), as
  a fraction of the score;
- ``popularity`` is the same for everyone: no product of the user carries it
  (:class:`Evidence` with no links);
- ``cf`` as weighted ALS is not linear in the history, but its score splits exactly over it
  too: product A carries ``(y_i^T W_u y_A) c_uA`` (:mod:`recommend.hybrid.factor_evidence`:
  which history, and how close the terms' sum is to the served score).

Only positive terms are evidence for the item; each link's ``fraction`` is its term over
their sum (content: over the larger of that sum and the score). :func:`evidence_fidelity`
re-scores the item with A taken out of the user's history (or content profile; ALS: folded
in again): the check that the link really carries part of the score.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from kg.interactions import POST_TIER
from recommend.hybrid.factor_evidence import factor_fidelity, factor_terms, splits_itself

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from kg.links import LinkFinder
    from recommend.hybrid.model import HybridModel
    from recommend.paths.privacy import Privacy
    from recommend.results import ExplainedPath

__all__ = ["EVIDENCE_COMPONENTS", "NO_PATH", "PATH_COMPONENTS", "Evidence",
           "component_evidence", "evidence_fidelity", "no_path", "path_fidelity", "served_paths"]

#: The components explained by the user's own products (or, popularity, by nothing of theirs).
EVIDENCE_COMPONENTS = ("cf", "session", "content", "popularity")
#: The components explained by their own meta-path instances.
PATH_COMPONENTS = ("graph", "social")
_CELLS = 1 << 20  # one-product histories scored at once: at most this many (rows x products)
_CHUNK = 64  # ... or this many rows, if more


class Evidence(NamedTuple):
    """``component``'s part ``share`` of an item's blended score, and the user's products
    (graph product indices) that carry it: ``(product, fraction of the component's score)``,
    largest first; ``relation``: the hop ``product -> item`` the component itself counted,
    when it names one (the session's, :meth:`recommend.hybrid.session.SessionComponent.
    evidence_relation`)."""

    component: str
    share: float
    links: tuple[tuple[int, float], ...] = ()
    relation: str | None = None


def component_evidence(
    model: HybridModel, u: int, items: np.ndarray, parts: Sequence[Mapping[str, float]],
    *, limit: int = 10,
) -> list[list[Evidence]]:
    """Per item (graph product indices), the :class:`Evidence` of each served component of
    :data:`EVIDENCE_COMPONENTS` with a positive part in ``parts`` (at most ``limit`` links
    each; a component with no positive term gives none)."""
    items = np.asarray(items, np.int64)
    out: list[list[Evidence]] = [[] for _ in items]
    for name in EVIDENCE_COMPONENTS:
        comp = model.components.get(name)
        share = np.array([max(float(p.get(name, 0.0)), 0.0) for p in parts])
        if comp is None or not (share > 0).any():
            continue
        if name == "popularity":
            for j in np.flatnonzero(share > 0):
                out[j].append(Evidence(name, float(share[j])))
            continue
        wanted = np.flatnonzero(share > 0)
        found = _terms(comp, u, items[wanted])
        if found is None:
            continue
        products, terms, scores = found
        relation = comp.evidence_relation() if name == "session" else None
        # per item at once (its terms a contiguous row): its products by term, largest
        # first (ties by position), the positive ones leading, the first ``limit`` taken
        # with their terms; how many are positive
        by_item = np.ascontiguousarray(terms.T)
        above = by_item > 0
        ranked = np.argsort(-by_item, axis=1, kind="stable")[:, :limit]
        linked, top = products[ranked].tolist(), np.take_along_axis(by_item, ranked, axis=1)
        positive, shares = np.count_nonzero(above, axis=1).tolist(), share.tolist()
        for col, j in enumerate(wanted.tolist()):
            if not positive[col]:
                continue
            total = float(by_item[col][above[col]].sum())  # (in order: the same sum)
            if name == "content":
                total = max(total, float(scores[col]))
            n = min(positive[col], limit)  # (the same ints and quotients as one by one)
            links = tuple(zip(linked[col][:n], (top[col, :n] / total).tolist(), strict=True))
            out[j].append(Evidence(name, shares[j], links, relation))
    return out


def _terms(comp: Any, u: int, items: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(the user's products A, their terms ``(len(A), len(items))``, the items' scores), or
    None when the component has no split for this user."""
    if comp.name == "content":
        return _content_terms(comp, u, items)
    if splits_itself(comp):
        return factor_terms(comp, u, items)
    # the component's own split of its history row (cf's history models, the session)
    found = comp.history_terms(u, items) if hasattr(comp, "history_terms") else None
    return found if found is not None else _split_terms(comp, u, items)


def _split_terms(comp: Any, u: int, items: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_terms` of a component linear in the user's history, through the component
    contract: its ``linear_history`` split into one-product histories, each scored by its
    ``history_scores`` (chunked)."""
    row = comp.linear_history(u)
    if row is None:
        return None
    one = sp.csr_matrix((row.data, row.indices, np.arange(row.nnz + 1)),
                        shape=(row.nnz, row.shape[1]))
    chunk = max(_CHUNK, _CELLS // max(row.shape[1], 1))
    if row.nnz <= chunk:  # a history's rows score independently: one call when they fit
        terms = np.asarray(comp.history_scores(one, items), np.float64)
        return row.indices, terms, terms.sum(axis=0)
    terms = np.zeros((row.nnz, len(items)))
    for s in range(0, row.nnz, chunk):
        terms[s:s + chunk] = comp.history_scores(one[s:s + chunk], items)
    return row.indices, terms, terms.sum(axis=0)


def _content_terms(comp: Any, u: int, items: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Leave-one-out drops of the cosine (module doc), vectorised over the user's products."""
    profile = comp.profile(u)
    if profile is None:
        return None
    a, w = profile
    both = comp.product_vectors(np.concatenate((a, items))).astype(np.float64)  # (one read)
    vec, targets = both[:len(a)], both[len(a):]
    w = w.astype(np.float64)
    s = w @ vec
    norm = math.sqrt(s.dot(s))  # (np.linalg.norm's own sum, without its checks)
    if norm == 0.0:
        return None
    left = norm**2 - 2 * w * (vec @ s) + w**2 * (vec * vec).sum(axis=1)  # |s - w_A v_A|^2
    left = np.sqrt(np.maximum(left, 0.0))
    dots = np.zeros(len(items))
    along = np.zeros((len(a), len(items)))  # v_A . v_i
    for k, target in enumerate(targets):  # item by item: the same sums for any batch
        dots[k] = float(s @ target)
        along[:, k] = vec @ target
    with np.errstate(divide="ignore", invalid="ignore"):  # (elementwise: the same bits)
        without = np.where(left[:, None] > 1e-12, (dots - w[:, None] * along) / left[:, None],
                           0.0)
    return a, dots / norm - without, dots / norm


def evidence_fidelity(model: HybridModel, u: int, item: int, component: str, product: int
                      ) -> tuple[float, float] | None:
    """``component``'s score of ``item`` for user ``u`` before and after taking ``product``
    out of the user's history (content: profile; ALS: the history it folds in); None for
    popularity or a product the user's row lacks."""
    comp = model.components.get(component)
    if comp is None or component not in EVIDENCE_COMPONENTS or component == "popularity":
        return None
    if component == "content":
        profile = comp.profile(u)
        if profile is None:
            return None
        a, w = profile
        pos = np.flatnonzero(a == product)
        if not len(pos) or w[pos[0]] == 0:
            return None
        vectors = comp.product_vectors(a).astype(np.float64)
        target = comp.product_vectors(np.array([item]))[0]
        after = w.copy()
        after[pos[0]] = 0.0
        return _cosine(w @ vectors, target), _cosine(after @ vectors, target)
    if splits_itself(comp):
        return factor_fidelity(comp, u, item, product)
    row = comp.linear_history(u)
    if row is None or product not in row.indices:
        return None
    row = row.tocsr(copy=True)
    items = np.array([item])
    before = float(comp.history_scores(row, items)[0, 0])
    row.data[row.indices == product] = 0.0
    return before, float(comp.history_scores(row, items)[0, 0])


def _cosine(s: np.ndarray, v: np.ndarray) -> float:
    norm = float(np.linalg.norm(s))
    return float(s @ v.astype(np.float64)) / norm if norm else 0.0


#: Said of a recommended item no path may be shown for: none joins the user to it, or every
#: one runs through what fewer than ``privacy.min_people`` other people did (a user who only
#: follows two buyers of it); "nothing you did links to it" would be false there.
NO_PATH = "no path we may show links you to this product"


def no_path(reason: str | None) -> str:
    """The reason of an item shown without a path: :data:`NO_PATH`, after ``reason``."""
    return NO_PATH if not reason else f"{reason}; {NO_PATH}"


def served_paths(
    model: HybridModel, graph: KnowledgeGraph, finder: LinkFinder, item_ids: Sequence[str],
    parts: Sequence[Mapping[str, float]], influencers: Callable[..., frozenset[str]],
    max_paths: int | None = None,
) -> list[list[ExplainedPath]]:
    """The paths the recommender shows under ``item_ids`` for ``finder``'s user: the graph and
    social meta-path instances and the other components' evidence, chosen under the model's
    config (``max_paths``, selection weights, ``paths.min_share`` of the item's score: the sum
    of its positive parts), by :func:`recommend.paths.explain.scored_paths_many`."""
    from recommend.paths.explain import scored_paths_many
    from recommend.paths.privacy import Privacy
    from recommend.paths.select import Selection
    from recommend.paths.user_reasons import own_products

    config = model.config
    scorers = [(name, comp.path_scorer(), [p.get(name, 0.0) for p in parts], influencers(name))
               for name in PATH_COMPONENTS if (comp := model.components.get(name)) is not None]
    items = np.array([graph.index(i) for i in item_ids], np.int64)
    privacy, own = Privacy.from_config(config), own_products(graph, finder.source)
    evidence = component_evidence(model, graph.index(finder.source), items,
                                  _linkable(graph, finder.source, items, parts, privacy, own,
                                            POST_TIER in config.split.target_relations),
                                  limit=config.paths.pool)
    totals = [sum(max(float(v), 0.0) for v in p.values()) for p in parts]
    return scored_paths_many(
        graph, finder.source, item_ids, scorers,
        max_paths=config.paths.max_paths if max_paths is None else max_paths, finder=finder,
        influencers=influencers(), privacy=privacy,
        selection=Selection.from_config(config), pool=config.paths.pool,
        evidence=evidence, totals=totals, min_share=config.paths.min_share, own=own)


def _linkable(graph: KnowledgeGraph, user_id: str, items: np.ndarray,
              parts: Sequence[Mapping[str, float]], privacy: Privacy, own: dict[int, str],
              posts: bool) -> Sequence[Mapping[str, float]]:
    """``parts`` without the cf part of an item no cf path can reach
    (:func:`recommend.paths.reasons.cf_may_link`, ``own``: the user's products, ``posts``:
    cf learned from the post tier): its cf evidence would show nothing."""
    from recommend.paths.reasons import cf_may_link

    cf = [j for j, p in enumerate(parts) if p.get("cf", 0.0) > 0]
    if not cf:
        return parts
    may = cf_may_link(graph, user_id, items[cf], privacy.min_people, own, posts=posts)
    out = list(parts)
    for j in np.asarray(cf)[~may].tolist():
        out[j] = {**parts[j], "cf": 0.0}
    return out


def path_fidelity(model: HybridModel, graph: KnowledgeGraph, user_id: str, item_id: str,
                  path: ExplainedPath) -> bool | None:
    """Whether taking a shown score path out lowers its component's score of the item: a
    graph or social path's edges masked (:func:`recommend.paths.fidelity_check`), another
    component's linking product taken out of the user's history or profile
    (:func:`evidence_fidelity`; for content, also a product reached through the user's
    post). None when that cannot be asked: a popularity path (the
    score is not the user's) or a component the model lacks."""
    comp = model.components.get(path.component or "")
    if comp is None:
        return None
    if path.component in PATH_COMPONENTS:
        return comp.fidelity(graph, user_id, item_id, path).dropped
    link = _linking_product(path.nodes)
    if link is None:
        return None
    found = evidence_fidelity(model, graph.index(user_id), graph.index(item_id),
                              path.component or "", graph.index(link))
    return None if found is None else found[1] < found[0] - 1e-9 * abs(found[0])


def _linking_product(nodes: Sequence[str]) -> str | None:
    """The user's product an evidence path starts from: ``You -> A -> ...``, or ``You -> post
    -mentions-> A ...`` (a content profile's product reached through a post; A may be the
    item)."""
    if len(nodes) >= 3 and nodes[1].startswith("product:"):
        return nodes[1]
    if len(nodes) >= 3 and nodes[1].startswith("post:") and nodes[2].startswith("product:"):
        return nodes[2]  # the item itself, when the post mentions it (content>post)
    return None
