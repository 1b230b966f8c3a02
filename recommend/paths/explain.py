"""Explanation paths: the concrete meta-path instances that carry an item's graph score.

Each path ``u = x0 .. xk = i`` of meta-path ``m`` carries ``w_m * prod_t S_t[x_(t-1), x_t]``
of the item's score (:mod:`recommend.paths.instances`); its ``contribution`` is that share of
the total. :func:`explain_paths_many` ranks a user's items' instances with
:func:`~recommend.paths.instances.top_instances_many`. Every hop is a nonzero of a step
matrix compiled from the stored edges of its relation, so every edge of a path exists, in its
stored direction. An item no meta-path reaches gets, if any, a shortest connection of at most
``max_hops`` hops, marked ``reason="connection"``: a link, not the score's reason
(:mod:`recommend.paths.connection`).
:func:`scored_paths_many` merges the paths of several scorers (the recommender's graph and
social components) and of the other components' evidence (:mod:`recommend.paths.reasons`)
by their share of the blended score, as :class:`recommend.results.ExplainedPath` s; none
carrying less than a floor of the item's score is shown as a reason.

:class:`~recommend.paths.path.Path` and an instance made one are :mod:`recommend.paths.path`;
:func:`~recommend.paths.fidelity.fidelity_check` removes a path's edges and re-scores.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from kg.links import LinkFinder
from recommend.paths.connection import CONNECTION_NOTE, connection_path
from recommend.paths.group_batch import LastHops, top_groups_each
from recommend.paths.instances import instances_as_groups, top_groups_many
from recommend.paths.metapaths import MetaPath, Normalize, step_matrices
from recommend.paths.other_member import mended
from recommend.paths.path import Instance, Path, built_path, path_kind, weighted_kinds
from recommend.paths.pool import (
    NodeKey,
    content_floor,
    evidence_keys,
    largest,
    loops,
    merged,
    node_keys,
    path_values,
)
from recommend.paths.precount import count_co_people, count_session_people
from recommend.paths.privacy import (
    Privacy,
    demographic_ids,
    violations,
)
from recommend.paths.quality import kept_act_times, user_interactions
from recommend.paths.reasons import PostStart, evidence_paths, least_values
from recommend.paths.select import Selection, select_paths
from recommend.paths.sentences import known_names, render_path
from recommend.paths.short_batch import top_instances_each
from recommend.paths.user_reasons import UserReasons, own_products
from recommend.results import ExplainedPath

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.evidence import Evidence
    from recommend.paths.scorer import GraphPathScorer

__all__ = ["Path", "explain_paths_many", "scored_paths_many"]


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
    group: bool = False,
) -> list[list[Path]]:
    """Per item of ``item_ids``, the top ``max_paths`` paths (by contribution) carrying its
    graph score for one user (one pass per meta-path over all the items).

    ``steps``: the scorer's compiled step matrices (computed here if None). With ``group``,
    a 3-hop meta-path's instances through one shared entity (the node before the item) are
    one path: its instance through the user's latest act (then the largest), carrying the
    sum over them all (:func:`~recommend.paths.instances.top_groups_many`), its ``note``
    saying how many of the user's acts lead there (:func:`~recommend.paths.sentences.
    group_note`). No weighted meta-path reaching an item: a :func:`connection_path` if
    ``fallback``, else []. No path shows what ``privacy`` forbids
    (:func:`recommend.paths.privacy.violations`)."""
    privacy = privacy or Privacy()
    demographic = demographic_ids(graph)
    items = np.array([graph.index(i) for i in item_ids], np.int64)
    found, totals = _instances(graph, user_id, items, metapaths, weights, max_paths=max_paths,
                               max_hops=max_hops, normalize=normalize, steps=steps, group=group)
    kinds = {mp.name: path_kind(mp) for mp in metapaths}
    out: list[list[Path]] = []
    for item_id, instances, total in zip(item_ids, found, totals, strict=True):
        if not instances:
            link = connection_path(graph, user_id, item_id, max_hops=max_hops,
                                   influencers=influencers, privacy=privacy) if fallback else None
            out.append([] if link is None else [link])
            continue
        kept: list[Path] = []
        for inst in instances:
            if len(kept) == max_paths:
                break
            path = built_path(graph, user_id, inst, *kinds[inst[1]], total, privacy, demographic)
            if path is not None:
                text = render_path(graph, path.nodes, path.edges, influencers=influencers)
                kept.append(path._replace(text=text + path.note))
        out.append(kept)
    return out


def _instances(
    graph: KnowledgeGraph, user_id: str, items: np.ndarray, metapaths: Sequence[MetaPath],
    weights: Sequence[float] | np.ndarray, *, max_paths: int, max_hops: int = 3,
    normalize: Normalize = "row", steps: Mapping[str, Sequence[sp.csr_matrix]] | None = None,
    group: bool = False,
    acts: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[list[list[Instance]], np.ndarray]:
    """Per item (graph indices ``items``): the ``max_paths`` largest instances of each
    weighted meta-path of at most ``max_hops`` hops, largest first (equal ones in meta-path
    order), and the item's score (:func:`explain_paths_many`); ``acts``: the user's act
    times by first hop (:func:`~recommend.paths.quality.act_times`), kept across calls."""
    return _instances_each(graph, user_id, [(items, metapaths, weights, steps)],
                           max_paths=max_paths, max_hops=max_hops, normalize=normalize,
                           group=group, acts=acts)[0]


#: What :func:`_instances_each` is asked per scorer: (its items, meta-paths, weights, steps).
Asked = tuple[np.ndarray, Sequence[MetaPath], Sequence[float] | np.ndarray,
              Mapping[str, Sequence[sp.csr_matrix]] | None]


def _instances_each(
    graph: KnowledgeGraph, user_id: str, asked: Sequence[Asked], *, max_paths: int,
    max_hops: int = 3, normalize: Normalize = "row", group: bool = False,
    acts: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[tuple[list[list[Instance]], np.ndarray]]:
    """:func:`_instances` of each scorer's ``(items, meta-paths, weights, steps)``, their
    grouped 3-step meta-paths in one pass (:func:`~recommend.paths.group_batch.
    top_groups_each`). A meta-path whose first step's row of the user is empty has no
    instance (each item's are none, its score 0): it is not asked."""
    u = graph.index(user_id)
    acts = {} if acts is None else acts
    plans = []  # per scorer: (meta-path, weight, steps, types, prefer: a grouped 3-step one's)
    for _, metapaths, weights, steps in asked:
        plan = []
        for mp, w in zip(metapaths, weights, strict=True):
            if w <= 0 or len(mp.steps) > max_hops:
                continue
            mats = steps[mp.name] if steps is not None else step_matrices(
                graph, mp, normalize=normalize)
            first = mats[0]
            if u < first.shape[0] and first.indptr[u] == first.indptr[u + 1]:
                continue  # (no instance: what asking would find)
            types = path_kind(mp)[1]  # (remembered: MetaPath.types derives them step by step)
            hop = (mp.steps[0].relation, types[1])
            plan.append((mp, float(w), mats, types,
                         partial(kept_act_times, graph, user_id, hop, acts)
                         if group and len(mp.steps) == 3 and mp.steps[0].direction == "out"
                         else None))
        plans.append(plan)
    # the meta-paths with a prefer in one pass (:mod:`recommend.paths.group_batch`), those of
    # one or two steps in another (:mod:`recommend.paths.short_batch`)
    lasts = LastHops()
    batch = iter(top_groups_each([(m, p, each[0]) for each, plan in zip(asked, plans, strict=True)
                                  for _, _, m, _, p in plan if p is not None], u, max_paths,
                                 lasts))
    short = iter(top_instances_each([(m, each[0]) for each, plan in zip(asked, plans, strict=True)
                                     for _, _, m, _, p in plan if len(m) <= 2], u, max_paths,
                                    lasts))
    out = []
    for (items, *_), plan in zip(asked, plans, strict=True):
        found: list[list[Instance]] = [[] for _ in items]
        totals = np.zeros(len(items))
        for mp, w, mats, types, prefer in plan:
            top = (next(batch) if prefer is not None else next(short) if len(mats) <= 2
                   else top_groups_many(mats, u, items, max_paths) if group
                   else instances_as_groups(mats, u, items, max_paths))
            # a walk back through the item itself ("who bought X also bought X": the user
            # has X) says nothing: not shown (its share still counts in the score); a group's
            # other member takes its place (:mod:`recommend.paths.other_member`)
            same = [t for t in range(1, len(types) - 1) if types[t] == types[-1]]
            for j, (best, score) in enumerate(top):
                totals[j] += w * score
                found[j] += [(w * v, mp.name, nodes, n) for nodes, v, n in
                             (mended(mats, u, best, same, prefer) if same else best)]
        for instances in found:
            instances.sort(key=lambda e: -e[0])
        out.append((found, totals))
    return out


#: A candidate path of an item: (its share of the item's blended score, component, path).
Candidate = tuple[float, str, Path]
#: An item's meta-path instance: (value, component, instance, meta-path, types, whether it
#: can break a privacy rule, item score).
Raw = tuple[float, str, Instance, MetaPath, tuple[str, ...], bool, float]
#: Floors are compared with this much room for rounding: what is left out is surely below.
_ROOM = 1.0 - 1e-9


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
    own: dict[int, str] | None = None,
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
    Nothing ``privacy`` forbids is shown. ``own``: the user's
    :func:`~recommend.paths.user_reasons.own_products`, when the caller has them.

    Under a selection, no candidate that cannot reach the floor is made a path (named,
    checked, its hop counted): not a meta-path instance whose path's value is below it and
    that no evidence path is (nor has its nodes, if a hop may join a node to itself), nor an
    evidence link below it by more than any path it may be carries
    (:func:`~recommend.paths.reasons.least_values`). Nor is an instance that is an evidence
    path carrying more (:func:`~recommend.paths.pool.evidence_keys`): its value is added to
    theirs. The paths shown are the same; an item none reaches is made in full, for the
    largest one.
    """
    selection = selection or Selection(0.0, 0.0, 0.0)
    privacy = privacy or Privacy()
    floors = [min_share * t for t in totals] if totals is not None and min_share > 0 else None
    prune = floors is not None and selection.active
    times = user_interactions(graph, user_id)  # once per request: grouping, recency, dates
    demographic = demographic_ids(graph)
    items = np.array([graph.index(i) for i in item_ids], np.int64)
    kols_of: dict[str, Collection[str]] = {}
    acts = times.hops  # act times, by first hop (read with the times)
    raw: list[list[Raw]] = [[] for _ in item_ids]
    # what an instance's edges can be (only a weighted meta-path has instances)
    relations = frozenset().union(*(weighted_kinds(sc.metapaths_, sc.weights_)[1]
                                    for _, sc, _, _ in scorers))
    wanted = [[j for j, share in enumerate(shares) if share > 0] for _, _, shares, _ in scorers]
    each = _instances_each(graph, user_id, [(items[w], sc.metapaths_, sc.weights_, sc.steps_)
                                            for w, (_, sc, _, _) in zip(wanted, scorers,
                                                                        strict=True)],
                           max_paths=max(pool, max_paths) if selection.active else max_paths,
                           group=True, acts=acts)  # (every scorer's in one pass)
    for (name, sc, shares, kols), its, (found, tots) in zip(scorers, wanted, each, strict=True):
        kols_of[name] = kols
        kinds = weighted_kinds(sc.metapaths_, sc.weights_)[0]  # (only they have instances)
        for j, instances, total in zip(its, found, tots, strict=True):
            raw[j] += [(shares[j] * (inst[0] / total), name, inst, *kinds[inst[1]], total)
                       for inst in instances]
    sums = [path_values(r) for r in raw] if prune else None
    context = (UserReasons(graph, user_id, own_products(graph, user_id) if own is None else own)
               if evidence is not None and any(evidence) else None)
    keyed: dict[str, tuple[str, int]] = {}  # node -> path_values' key, for this request
    via_posts: dict[str, PostStart] = {}  # a product's route through the user's posts
    bounds = (least_values(evidence, [max(s[1].values(), default=0.0) for s in sums],
                           floors, _ROOM) if sums and floors and evidence else None)
    if context is not None:  # the session and cf links' people, for every item at once
        count_session_people(graph, item_ids, evidence, context.own,  # type: ignore[arg-type]
                             min_people=privacy.min_people, per_component=max_paths)
        count_co_people(graph, item_ids, evidence, context.own,  # type: ignore[arg-type]
                        per_component=max_paths)

    def evidence_of(j: int, least: bool) -> list[Candidate]:
        """Item j's evidence paths, in the order found (every one: :func:`candidates` keeps
        those that can reach the floor, the largest one may be any; ``least``: no content
        path that cannot reach it, :func:`~recommend.paths.pool.content_floor`)."""
        ev: list[Candidate] = []
        unseen = content_floor(sums[j][1], floors[j] * _ROOM) \
            if least and sums and floors else None
        for name, share, (fraction, kind, nodes, edges, note) in [] if context is None else \
                evidence_paths(graph, user_id, item_ids[j], evidence[j], context.own,
                               min_people=privacy.min_people, per_component=max_paths,
                               context=context, unseen=unseen, via_posts=via_posts):
            if not violations(graph, user_id, edges, min_people=privacy.min_people,
                              demographic=demographic):
                ev.append((share * fraction, name, Path(nodes, edges, kind, fraction, "",
                                                        note=note)))
        return ev

    def instance(j: int, r: int) -> Candidate | None:
        """Item j's meta-path instance r as a candidate (None: privacy forbids its path)."""
        value, name, inst, mp, types, checked, total = raw[j][r]
        path = built_path(graph, user_id, inst, mp, types, checked, total, privacy, demographic)
        return None if path is None else (value, name, path)

    def candidates(j: int, every: list[Candidate], least: bool) -> list[Candidate]:
        """Item j's candidates, in the order found (``every``: its evidence paths);
        ``least``: none that cannot reach the floor. (An evidence path below its
        component's bound is one :func:`~recommend.paths.reasons.evidence_paths` given
        that bound would not try: links come largest first.)"""
        least_of = bounds[j] if bounds and least else None
        ev = every if least_of is None else [c for c in every if c[0] >= least_of[c[1]]]
        mine: set[NodeKey] | None = None  # the evidence paths' nodes, when asked
        paths_of = evidence_keys(graph, ev, keyed, relations) \
            if least and sums and floors and raw[j] else {}
        out: list[Candidate] = []
        kept: dict[str, int] = {}
        active = selection.active
        keys, values = sums[j] if least and sums and floors else ([], {})
        low = floors[j] * _ROOM if keys else 0.0
        for r, (value, name, *_) in enumerate(raw[j]):
            if not active and kept.get(name, 0) == max_paths:
                continue
            key = keys[r] if keys else None
            hit = paths_of.get(key) if paths_of and key is not None else None
            if hit is None and key is not None and values[key] < low:
                if not loops(key[0]):
                    continue  # (no evidence path is its path: every instance of it has its key)
                if mine is None:
                    mine = node_keys(graph, (p for _, _, p in ev), keyed)
                if key[0] not in mine:
                    continue
            # an evidence path carrying more is its path: merged() only adds its value there
            c = instance(j, r) if hit is None or value >= hit[0] else (value, name, hit[1])
            if c is not None:
                kept[name] = kept.get(name, 0) + 1
                out.append(c)
        return out + ev

    def first_node_keys(p: Path) -> NodeKey:
        return next(iter(node_keys(graph, (p,), keyed)))

    found_all: list[list[Candidate]] = []
    below: list[tuple[str, Path] | None] = [None] * len(item_ids)
    for j in range(len(item_ids)):
        every = evidence_of(j, prune)
        paths = merged(candidates(j, every, prune))
        if floors is not None:
            kept = [c for c in paths if c[0] >= floors[j]]
            if prune and not kept:  # the largest of them all, shown as a connection
                every = evidence_of(j, False)  # (what was not made is below the floor)
                top = largest(sums[j][0], sums[j][1], [e[0] for e in raw[j]],
                              partial(instance, j), every, first_node_keys)
                paths = [] if top is None else [top]
            below[j] = paths[0][1:] if paths else None
            paths = kept
        found_all.append(paths)
    # dates: this request's; the names of nodes other than users and posts: kept until the
    # graph changes (they are read from it alone), across requests
    say = partial(render_path, graph, acts=times, known=known_names(graph))
    sentences: dict[int, str] = {}  # id of a candidate's path (found_all holds them all)

    def said(c: Candidate) -> str:
        _, name, p = c
        text = sentences.get(id(p))
        if text is None:
            text = sentences[id(p)] = say(p.nodes, p.edges,
                                          influencers=kols_of.get(name, ())) + p.note
        return text

    chosen = select_paths(graph, user_id, found_all, max_paths, selection, times=times,
                          said=said)
    out: list[list[ExplainedPath]] = []
    for item_id, paths, under in zip(item_ids, chosen, below, strict=True):
        if paths:
            total = sum(c for c, _, _ in paths)
            out.append([ExplainedPath(c[2].nodes, c[2].edges, said(c), c[1], c[2].metapath,
                                      c[0] / total if total > 0 else 0.0) for c in paths])
            continue
        if under is not None:  # carries almost nothing: shown as a connection, not a reason
            name, p = under
            text = say(p.nodes, p.edges, influencers=kols_of.get(name, ()))
            out.append([ExplainedPath(p.nodes, p.edges, text + p.note + CONNECTION_NOTE,
                                      None, None, 0.0, "connection")])
            continue
        link = connection_path(graph, user_id, item_id, finder=finder,
                               influencers=influencers, privacy=privacy)
        out.append([] if link is None else [
            ExplainedPath(link.nodes, link.edges, link.text, None, None, 0.0, "connection")])
    return out
