"""Following added edges in a :class:`~recommend.paths.scorer.GraphPathScorer`: only the
step matrices, or the rows of them, that the new edges change.

A step's raw matrix is computed from a few stored relations (:func:`step_inputs`): its own,
an aggregate's interactions (and ``member_of`` for a segment's), ``purchased`` for a counted
``co_bought``, ``follows`` for a KOL-weighted step. A step none of whose inputs gained edges
is kept as it is (shared with the old scorer: step matrices are never changed in place).
With row normalisation, a user's step changes only in the rows of the users with new edges,
and an aggregate step whose interactions grew only in the rows its new edges' users reach:
the products they did something to (a co-interaction's weight and head count change only
between two products one of them did), the segments they belong to, or (a count over the
people a user follows) their own rows and their followers'. Those rows are
recomputed by :func:`recommend.paths.metapaths.raw_step_matrix` (the full matrix's values)
and spliced in (:func:`kg.delta.splice_rows`). Any other changed step is recompiled whole;
a new follow recompiles the whole scorer, since the KOL weights are a PageRank over all
follows.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from kg.delta import GraphDelta, splice_rows
from kg.interactions import relation_rows
from recommend.paths.metapaths import Step, normalize_step, raw_step_matrix
from recommend.paths.privacy import (
    AGGREGATES,
    COUNTED,
    doers_matrix,
    followees,
    interactions_of,
    members,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.scorer import GraphPathScorer

__all__ = ["grown_scorer", "step_inputs"]


def step_inputs(step: Step) -> frozenset[str]:
    """The stored relations whose edges the step's raw matrix is computed from."""
    if step.relation in AGGREGATES:
        agg = AGGREGATES[step.relation]
        found = set(interactions_of(agg.interaction))
        if agg.src_type == "segment":
            found.add("member_of")
        if agg.src_type == "user":
            found.add("follows")
        return frozenset(found)
    found = {step.relation}
    if step.relation in COUNTED and step.min_people > 0:
        found.add("purchased")
    if step.reweight == "kol":
        found.add("follows")
    return frozenset(found)


def grown_scorer(scorer: GraphPathScorer, graph: KnowledgeGraph, delta: GraphDelta
                 ) -> GraphPathScorer:
    """``scorer`` over ``graph``, grown from its graph by ``delta`` (edges only): a new
    scorer sharing every step matrix the delta leaves unchanged (module doc)."""
    from recommend.paths.scorer import GraphPathScorer

    if not delta.incremental or (scorer.kol_ is not None and delta.touches({"follows"})):
        return GraphPathScorer.from_state(graph, scorer.state())
    grown = copy.copy(scorer)
    grown.graph_ = graph
    grown.steps_ = dict(scorer.steps_)
    done: dict[tuple[Step, str], sp.csr_matrix] = {}
    kol = None if scorer.kol_ is None else scorer.kol_.weights
    for mp in scorer.metapaths_:
        steps = list(scorer.steps_[mp.name])
        for j, (step, from_type) in enumerate(zip(mp.steps, mp.types[:-1], strict=True)):
            if not delta.touches(step_inputs(step)):
                continue
            key = (step, from_type)
            if key not in done:
                done[key] = _grown_step(graph, step, from_type, steps[j], delta,
                                        scorer.normalize, kol)
            steps[j] = done[key]
        grown.steps_[mp.name] = steps
    if delta.touches(set(scorer.seen_relations)):
        grown.seen_ = scorer._seen(graph)
    for step, _ in done:  # the head counts explanations show: made now, not by a reader
        if step.relation in AGGREGATES:
            doers_matrix(graph, AGGREGATES[step.relation].interaction)
    return grown


def _grown_step(graph: KnowledgeGraph, step: Step, from_type: str, old: sp.csr_matrix,
                delta: GraphDelta, normalize: str, kol: np.ndarray | None) -> sp.csr_matrix:
    """The step's normalised matrix after ``delta``: its changed rows spliced into ``old``
    when that is exact and cheaper, else recompiled whole."""
    rows = _changed_rows(graph, step, from_type, delta) if normalize == "row" else None
    if rows is None:
        return normalize_step(raw_step_matrix(graph, step, from_type, kol=kol),
                              normalize)  # type: ignore[arg-type]
    fresh = raw_step_matrix(graph, step, from_type, rows=rows)
    return splice_rows(old, rows, normalize_step(fresh, "row"))


def _changed_rows(graph: KnowledgeGraph, step: Step, from_type: str, delta: GraphDelta
                  ) -> np.ndarray | None:
    """The rows of a step that ``delta``'s users' new edges can change (None: recompile it
    whole): a user's own edges (its row), an aggregate's rows (module doc)."""
    if step.direction != "out" or step.reweight is not None or step.relation in COUNTED:
        return None
    agg = AGGREGATES.get(step.relation)
    if agg is None:
        return delta.users if from_type == "user" else None
    if agg.src_type == "segment" and delta.touches({"member_of"}):
        return None  # new members: recompile it whole
    users = delta.users
    if agg.src_type == "product":
        reached = relation_rows(graph, interactions_of(agg.interaction), users)
        return np.unique(reached.indices).astype(np.int64)
    if agg.src_type == "user":  # the new edges' users' own rows (a follow), their followers'
        followers = followees(graph).T.tocsr()[users]
        return np.union1d(users, followers.indices).astype(np.int64)
    return np.unique(members(graph, demographics=step.demographics)[users].indices
                     ).astype(np.int64)
