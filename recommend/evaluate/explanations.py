"""Explanation quality you can measure: LIR, SEP, ETD, validity, fidelity, coverage, length.

Over a sample of users' top-k :class:`recommend.results.Recommendation` s:

- **LIR** and **SEP** (:mod:`recommend.paths.quality`, the SIGIR'22 definitions of Balloccu
  et al.: EWMA with ``span=10`` over rank positions): the mean over the shown paths that have
  a linking interaction (the user's own timed first hop) or a shared entity; ``lir_hopwise``
  is hopwise's variant (``ewm(span=n)`` over raw timestamps). ``lir_paths`` is the share of
  shown paths that have a linking interaction at all (none: LIR is None, not 0);
- **ETD** (explanation type diversity): per user, the distinct types of the items' first
  paths divided by ``min(k, n_types)``; a type is a path's meta-path, or ``"connection"``.
  ``etd_all`` counts the types of every shown path against ``min(shown paths, n_types)``;
- **validity**: every hop of every shown path is a stored edge (an aggregate hop: backed by
  stored edges, :func:`recommend.hybrid.audit.path_is_valid`);
- **fidelity**: taking each shown score-carrying path out lowers its component's score of the
  item (:func:`recommend.hybrid.evidence.path_fidelity`: a graph or social path's edges
  masked, a cf, session or content path's linking product taken out of the user's history);
  a popularity path cannot be asked (the score is not the user's): ``fidelity_not_applicable``;
- **coverage**: the share of items with at least one valid path, and with a score-carrying one
  (``no_path``: how many items had none at all);
- **mean length**: hops per shown path; ``by_component``: shown paths per component.

>>> etd(["bought>co_bought", "bought>co_bought", "interest>brand"], n_types=4, k=3)
0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recommend.paths.quality import (
    entity_popularity,
    interaction_recency,
    linking_interaction,
    shared_entity,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.recommender import Recommender
    from recommend.results import ExplainedPath, Recommendation

__all__ = ["ExplanationQuality", "etd", "evaluate_explanations", "n_path_types", "path_lir",
           "path_sep", "path_type"]


@dataclass(frozen=True)
class ExplanationQuality:
    """Means over the audited users' recommended items and their shown paths (module doc)."""

    users: int
    items: int
    paths: int
    lir: float | None
    lir_hopwise: float | None
    lir_paths: float
    sep: float | None
    etd: float
    etd_all: float
    with_valid_path: float
    with_score_path: float
    invalid_paths: int
    fidelity_checked: int
    fidelity: float
    mean_length: float
    fidelity_not_applicable: int = 0
    no_path: int = 0
    by_component: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def path_type(path: ExplainedPath) -> str:
    """A path's type: its meta-path, or ``"connection"`` for a link that carries no score."""
    return path.metapath if path.metapath is not None else "connection"


def etd(types: Sequence[str | None], n_types: int, k: int) -> float:
    """Distinct types among ``types`` (None: no path) / ``min(k, n_types)``."""
    if n_types < 1 or k < 1:
        raise ValueError(f"etd needs n_types >= 1 and k >= 1, got {n_types}, {k}")
    return len({t for t in types if t is not None}) / min(k, n_types)


def n_path_types(rec: Recommender) -> int:
    """The path types ``rec`` can show: its weighted meta-paths, the other served
    components' evidence types (:func:`recommend.paths.reasons.evidence_types`), plus
    connections."""
    from kg.interactions import POST_TIER
    from recommend.paths.reasons import evidence_types

    names = {mp.name for comp in ("graph", "social")
             if (c := rec.model.components.get(comp)) is not None
             for mp, _ in c.weighted_metapaths()}
    post_tier = POST_TIER in rec.model.config.split.target_relations
    return len(names | evidence_types(rec.graph, list(rec.model.components),
                                      post_tier=post_tier)) + 1


def path_lir(recency: Mapping[tuple[str, str], float], path: ExplainedPath) -> float | None:
    """The LIR of ``path``'s linking interaction (None when it has none)."""
    link = linking_interaction(path.nodes, path.edges)
    return None if link is None else recency.get(link)


def path_sep(graph: KnowledgeGraph, path: ExplainedPath) -> float | None:
    """The SEP of ``path``'s shared entity (None for a one-hop path)."""
    node = shared_entity(path.nodes, path.edges)
    if node is None or not graph.has_node(node):
        return None
    return float(entity_popularity(graph, node.partition(":")[0])[graph.index(node)])


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else 0.0


def _mean_or_none(values: Sequence[float]) -> float | None:
    """The mean, or None when nothing was measured (no path has a timed linking
    interaction: a dataset without timestamps has no LIR, not an LIR of 0)."""
    return float(np.mean(values)) if values else None


def evaluate_explanations(
    rec: Recommender,
    lists: Sequence[tuple[str, Sequence[Recommendation]]],
    *,
    k: int = 10,
    fidelity_every: int = 1,
) -> ExplanationQuality:
    """Measure the paths of ``lists`` (``(user id, rec.recommend(user, k))`` pairs, made by
    ``rec`` on its graph); fidelity on every ``fidelity_every``-th shown score path."""
    from recommend.hybrid.audit import path_is_valid
    from recommend.hybrid.evidence import path_fidelity

    graph = rec.graph
    n_types = n_path_types(rec)
    lir: list[float] = []
    lir_hop: list[float] = []
    sep: list[float] = []
    etds: list[float] = []
    etds_all: list[float] = []
    lengths: list[int] = []
    drops: list[bool] = []
    by_component: dict[str, int] = {}
    n_items = n_paths = n_valid = n_score = bad = with_link = score_seen = n_na = 0
    for user, recs in lists:
        uid = rec.user_id(user)
        recency = interaction_recency(graph, uid)
        hopwise = interaction_recency(graph, uid, variant="hopwise")
        firsts: list[str | None] = []
        shown: list[str] = []
        for r in recs:
            n_items += 1
            valid = [p for p in r.paths if path_is_valid(graph, p)]
            bad += len(r.paths) - len(valid)
            firsts.append(path_type(r.paths[0]) if r.paths else None)
            shown += [path_type(p) for p in r.paths]
            n_valid += bool(valid)
            n_score += any(p.kind == "score" for p in valid)
            for p in r.paths:
                n_paths += 1
                name = p.component or p.kind
                by_component[name] = by_component.get(name, 0) + 1
                lengths.append(p.hops)
                value = path_lir(recency, p)
                if value is not None:
                    with_link += 1
                    lir.append(value)
                    lir_hop.append(hopwise[linking_interaction(p.nodes, p.edges)])
                pop = path_sep(graph, p)
                if pop is not None:
                    sep.append(pop)
                if p.kind != "score" or p not in valid:
                    continue
                score_seen += 1
                if (score_seen - 1) % fidelity_every == 0:
                    dropped = path_fidelity(rec.model, graph, uid, r.item, p)
                    if dropped is None:
                        n_na += 1
                    else:
                        drops.append(dropped)
        if recs:
            etds.append(etd(firsts, n_types, k))
            if shown:
                etds_all.append(len(set(shown)) / min(len(shown), n_types))
    share = (lambda n: n / n_items) if n_items else (lambda n: 0.0)
    return ExplanationQuality(
        users=len(lists), items=n_items, paths=n_paths, lir=_mean_or_none(lir),
        lir_hopwise=_mean_or_none(lir_hop), lir_paths=with_link / n_paths if n_paths else 0.0,
        sep=_mean_or_none(sep), etd=_mean(etds), etd_all=_mean(etds_all),
        with_valid_path=share(n_valid), with_score_path=share(n_score), invalid_paths=bad,
        fidelity_checked=len(drops), fidelity=_mean([float(d) for d in drops]),
        mean_length=_mean([float(n) for n in lengths]), fidelity_not_applicable=n_na,
        no_path=n_items - n_valid, by_component=dict(sorted(by_component.items())))
