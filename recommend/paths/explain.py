"""Explanation paths: the concrete meta-path instances that carry an item's graph score.

Each path ``u = x0 .. xk = i`` of meta-path ``m`` carries ``w_m * prod_t S_t[x_(t-1), x_t]``
of the item's score (:mod:`recommend.paths.instances`); its ``contribution`` is that share of
the total. :func:`explain_paths_many` ranks a user's items' instances with
:func:`~recommend.paths.instances.top_instances_many`. Every hop is a nonzero of a step
matrix compiled from the stored edges of its relation, so every edge of a path exists, in its
stored direction. An item no meta-path reaches gets, if any, a shortest connection of at most
``max_hops`` hops, marked ``reason="connection"``: a link, not the score's reason.
:func:`scored_paths_many` merges the paths of several scorers (the recommender's graph and
social components) and of the other components' evidence (:mod:`recommend.paths.reasons`)
by their share of the blended score, as :class:`recommend.results.ExplainedPath` s; none
carrying less than a floor of the item's score is shown as a reason.

:func:`~recommend.paths.fidelity.fidelity_check` removes a path's edges and re-scores.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from kg.links import LinkFinder, LinkRules
from recommend.paths.instances import instances_as_groups, top_groups_many
from recommend.paths.metapaths import (
    MetaPath,
    Normalize,
    step_matrices,
)
from recommend.paths.privacy import (
    COUNTED,
    PERSONAL_RELATIONS,
    Privacy,
    aggregate_link,
    demographic_ids,
    violations,
)
from recommend.paths.quality import act_times, user_interactions
from recommend.paths.reasons import evidence_paths
from recommend.paths.select import Selection, select_paths
from recommend.paths.sentences import group_note, render_path
from recommend.paths.user_reasons import UserReasons, own_products
from recommend.results import ExplainedPath

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.evidence import Evidence
    from recommend.paths.scorer import GraphPathScorer

__all__ = ["CONNECTION_NOTE", "Path", "connection_path", "explain_paths", "explain_paths_many",
           "link_rules", "scored_paths_many"]

EdgeTriple = tuple[str, str, str]


@dataclass(frozen=True)
class Path:
    """A path from the user (``nodes[0]``) to the item (``nodes[-1]``).

    ``edges[t]`` is the stored edge ``(src, relation, dst)`` joining ``nodes[t]`` and
    ``nodes[t+1]`` (in either direction); ``contribution`` is the path's share of the item's
    graph score (0 for a connection), ``reason`` says which.
    """

    nodes: tuple[str, ...]
    edges: tuple[EdgeTriple, ...]
    metapath: str | None
    contribution: float
    text: str
    reason: Literal["score", "connection"] = "score"
    note: str = ""  # said after the rendered sentence (a popularity path's count)

    @property
    def hops(self) -> int:
        return len(self.edges)


def _stored_edge(a: str, rel: str, b: str, direction: str) -> EdgeTriple:
    """The hop ``a -> b`` as the stored edge: each hop of an instance is a nonzero of a step
    matrix compiled from that relation's stored edges, so the edge exists (the tests and the
    bench audits check every served edge with :meth:`KnowledgeGraph.has_edge`)."""
    return (a, rel, b) if direction == "out" else (b, rel, a)


def explain_paths(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    metapaths: Sequence[MetaPath],
    weights: Sequence[float] | np.ndarray,
    *,
    max_paths: int = 3,
    max_hops: int = 3,
    normalize: Normalize = "row",
    steps: Mapping[str, Sequence[sp.csr_matrix]] | None = None,
    influencers: Collection[str] = (),
    fallback: bool = True,
    privacy: Privacy | None = None,
    group: bool = False,
) -> list[Path]:
    """The top ``max_paths`` paths (by contribution) carrying ``item_id``'s graph score
    (``group``: one per shared entity, :func:`explain_paths_many`).

    ``steps`` are the scorer's compiled step matrices (computed here if None). When no
    weighted meta-path reaches the item: a :func:`connection_path` if ``fallback``, else [].
    A path that would show what ``privacy`` forbids (:func:`recommend.paths.privacy.
    violations`: only a scorer given private meta-paths or demographics makes one) is not
    shown.
    """
    return explain_paths_many(graph, user_id, [item_id], metapaths, weights,
                              max_paths=max_paths, max_hops=max_hops, normalize=normalize,
                              steps=steps, influencers=influencers, fallback=fallback,
                              privacy=privacy, group=group)[0]


def explain_paths_many(
    graph: KnowledgeGraph,
    user_id: str,
    item_ids: Sequence[str],
    metapaths: Sequence[MetaPath],
    weights: Sequence[float] | np.ndarray,
    *,
    max_paths: int = 3,
    max_hops: int = 3,
    normalize: Normalize = "row",
    steps: Mapping[str, Sequence[sp.csr_matrix]] | None = None,
    influencers: Collection[str] = (),
    fallback: bool = True,
    privacy: Privacy | None = None,
    keep: int | None = -1,
    render: bool = True,
    group: bool = False,
    times: dict[tuple[str, str], float] | None = None,
) -> list[list[Path]]:
    """:func:`explain_paths` of each of ``item_ids`` for one user (one pass per meta-path).

    ``max_paths`` instances per meta-path are found; ``keep`` of them per item are kept
    (default ``max_paths``; None: all, for :func:`recommend.paths.select.select_paths`); with
    ``render=False`` their ``text`` is left empty (:func:`render_path` it later). With
    ``group``, a 3-hop meta-path's instances through one shared entity (the node before the
    item) are one path: its instance through the user's latest act (then the largest),
    carrying the sum over them all
    (:func:`~recommend.paths.instances.top_groups_many`; masking its last hop takes that
    sum out), its ``note`` saying how many of the user's own acts lead there
    (:func:`~recommend.paths.sentences.group_note`); ``times``: the user's
    :func:`~recommend.paths.quality.user_interactions`, when the caller has them."""
    keep = max_paths if keep == -1 else keep
    privacy = privacy or Privacy()
    demographic = demographic_ids(graph)
    u = graph.index(user_id)
    items = np.array([graph.index(i) for i in item_ids], np.int64)
    found: list[list[tuple[float, str, tuple[int, ...], int]]] = [[] for _ in item_ids]
    totals = np.zeros(len(item_ids))
    for mp, w in zip(metapaths, weights, strict=True):
        if w <= 0 or len(mp.steps) > max_hops:
            continue
        mats = steps[mp.name] if steps is not None else step_matrices(
            graph, mp, normalize=normalize)
        prefer = None
        if group and len(mp.steps) == 3 and mp.steps[0].direction == "out":
            times = user_interactions(graph, user_id) if times is None else times
            prefer = act_times(graph, times, mp.steps[0].relation, mp.types[1])
        top = (top_groups_many(mats, u, items, max_paths, prefer=prefer) if group
               else instances_as_groups(mats, u, items, max_paths))
        for j, (best, score) in enumerate(top):
            totals[j] += float(w) * score
            found[j] += [(float(w) * v, mp.name, nodes, n) for nodes, v, n in best]
    by_name = {mp.name: (mp, mp.types) for mp in metapaths}  # types: computed per call
    out: list[list[Path]] = []
    for item_id, paths, total in zip(item_ids, found, totals, strict=True):
        if not paths:
            link = connection_path(graph, user_id, item_id, max_hops=max_hops,
                                   influencers=influencers, privacy=privacy) if fallback else None
            out.append([] if link is None else [link])
            continue
        kept: list[Path] = []
        for share, name, idx, size in sorted(paths, key=lambda e: -e[0]):
            if keep is not None and len(kept) == keep:
                break
            mp, types = by_name[name]
            nodes = tuple(graph.node_id(t, j) for t, j in zip(types, idx, strict=True))
            edges = tuple(
                _stored_edge(a, s.relation, b, s.direction)
                for s, a, b in zip(mp.steps, nodes[:-1], nodes[1:], strict=True)
            )
            if violations(graph, user_id, edges, min_people=privacy.min_people,
                          demographic=demographic):
                continue
            note = group_note(graph, nodes, edges, size)
            text = render_path(graph, nodes, edges, influencers=influencers) + note \
                if render else ""
            kept.append(Path(nodes, edges, name, share / total, text, note=note))
        out.append(kept)
    return out


def scored_paths_many(
    graph: KnowledgeGraph,
    user_id: str,
    item_ids: Sequence[str],
    scorers: Sequence[tuple[str, GraphPathScorer, Sequence[float], Collection[str]]],
    *,
    max_paths: int = 3,
    finder: LinkFinder | None = None,
    influencers: Collection[str] = (),
    privacy: Privacy | None = None,
    selection: Selection | None = None,
    pool: int = 10,
    evidence: Sequence[Sequence[Evidence]] | None = None,
    totals: Sequence[float] | None = None,
    min_share: float = 0.0,
) -> list[list[ExplainedPath]]:
    """Per item, up to ``max_paths`` paths carrying its score over several scorers.

    ``scorers``: ``(component, scorer, shares, its influencers)``, ``shares[j]`` the
    component's part of item j's blended score; ``evidence[j]``: the other components'
    (:mod:`recommend.hybrid.evidence`), made into paths by :mod:`recommend.paths.reasons`.
    A path carries its component's share times its part of that component's score (a path
    two components found, the sum: it is shown once); one
    carrying less than ``min_share`` of ``totals[j]`` (the item's score) is never shown as
    a reason (when all do, the largest is shown as a connection).
    Which paths are shown is :func:`recommend.paths.select.select_paths`'s choice among
    the item's score-carrying paths, the ``pool`` largest of each meta-path (``selection``
    None or all weights 0: the ``max_paths`` largest shares); a path's ``contribution`` is
    its share of the sum over the item's paths kept. None carrying a score: a
    :func:`connection_path` (through ``finder``, which should follow :func:`link_rules`).
    Nothing ``privacy`` forbids is shown.
    """
    selection = selection or Selection(0.0, 0.0, 0.0)
    privacy = privacy or Privacy()
    found: list[list[tuple[float, str, Path]]] = [[] for _ in item_ids]
    kols_of: dict[str, Collection[str]] = {}
    times = user_interactions(graph, user_id)  # once per request: grouping and recency
    for name, sc, shares, kols in scorers:
        kols_of[name] = kols
        wanted = [j for j, share in enumerate(shares) if share > 0]
        paths = explain_paths_many(graph, user_id, [item_ids[j] for j in wanted],
                                   sc.metapaths_, sc.weights_,
                                   max_paths=max(pool, max_paths) if selection.active
                                   else max_paths,
                                   steps=sc.steps_, influencers=kols, fallback=False,
                                   privacy=privacy, render=False, group=True, times=times,
                                   keep=None if selection.active else max_paths)
        for j, item_paths in zip(wanted, paths, strict=True):
            found[j] += [(shares[j] * p.contribution, name, p) for p in item_paths]
    if evidence is not None:
        _add_evidence(graph, user_id, item_ids, evidence, found, privacy, max_paths)
    below: list[tuple[str, Path] | None] = [None] * len(item_ids)
    for j, paths in enumerate(found):
        paths[:] = _merged(paths)
        paths.sort(key=lambda e: -e[0])
        if totals is not None and min_share > 0 and paths:
            below[j] = paths[0][1:]
            paths[:] = [c for c in paths if c[0] >= min_share * totals[j]]
    chosen = select_paths(graph, user_id, found, max_paths, selection, times=times)
    out: list[list[ExplainedPath]] = []
    for item_id, paths, under in zip(item_ids, chosen, below, strict=True):
        if paths:
            total = sum(c for c, _, _ in paths)
            out.append([ExplainedPath(p.nodes, p.edges,
                                      render_path(graph, p.nodes, p.edges,
                                                  influencers=kols_of.get(name, ()))
                                      + p.note,
                                      name, p.metapath, c / total if total > 0 else 0.0)
                        for c, name, p in paths])
            continue
        if under is not None:  # carries almost nothing: shown as a connection, not a reason
            name, p = under
            text = render_path(graph, p.nodes, p.edges, influencers=kols_of.get(name, ()))
            out.append([ExplainedPath(p.nodes, p.edges, text + p.note + CONNECTION_NOTE,
                                      None, None, 0.0, "connection")])
            continue
        link = connection_path(graph, user_id, item_id, finder=finder,
                               influencers=influencers, privacy=privacy)
        out.append([] if link is None else [
            ExplainedPath(link.nodes, link.edges, link.text, None, None, 0.0, "connection")])
    return out


def _merged(paths: list[tuple[float, str, Path]]) -> list[tuple[float, str, Path]]:
    """One candidate per distinct path (nodes and edges): the same path found by two
    components ("You rated A; 246 people who rated A also rated B" by cf and session) carries
    both shares, under the component carrying the more."""
    best: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], tuple[float, str, Path]] = {}
    total: dict[tuple[tuple[str, ...], tuple[EdgeTriple, ...]], float] = {}
    for c in paths:
        key = (c[2].nodes, c[2].edges)
        total[key] = total.get(key, 0.0) + c[0]
        if key not in best or c[0] > best[key][0]:
            best[key] = c
    return [(total[key], name, p) for key, (_, name, p) in best.items()]


def _add_evidence(
    graph: KnowledgeGraph, user_id: str, item_ids: Sequence[str],
    evidence: Sequence[Sequence[Evidence]], found: list[list[tuple[float, str, Path]]],
    privacy: Privacy, per_component: int,
) -> None:
    """Add each item's evidence paths (:func:`recommend.paths.reasons.evidence_paths`) to
    ``found`` as ``(share of the item's score, component, path)``; none that ``privacy``
    forbids."""
    if not any(evidence):
        return
    own = own_products(graph, user_id)
    context = UserReasons(graph, user_id, own)
    demographic = demographic_ids(graph)
    for j, (item_id, item_evidence) in enumerate(zip(item_ids, evidence, strict=True)):
        for name, share, (fraction, kind, nodes, edges, note) in evidence_paths(
                graph, user_id, item_id, item_evidence, own, min_people=privacy.min_people,
                per_component=per_component, context=context):
            if violations(graph, user_id, edges, min_people=privacy.min_people,
                          demographic=demographic):
                continue
            found[j].append((share * fraction, name,
                             Path(nodes, edges, kind, fraction, "", note=note)))


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
    """A shortest path of at most ``max_hops`` (<= 3) hops through existing edges, or None.

    The search is :class:`kg.links.LinkFinder`'s under :func:`link_rules` (user side
    expanded at most ``max_expand`` nodes), else an aggregate over people
    (:func:`recommend.paths.privacy.aggregate_link`: "14 people who viewed A also viewed
    B"); pass ``finder`` to reuse one user's neighbourhood across items. The path is a
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
        found = aggregate_link(graph, user_id, item_id, min_people=privacy.min_people)
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
