"""Explanation audit: do recommended items come with real paths, and do the paths matter?

For a sample of users, :func:`audit_explanations` asks the :class:`Recommender` for its top
``k`` with explanations and checks, per recommended item:

- *coverage*: at least one path is given and every edge of it is stored in the graph
  (``valid``), split into score-carrying paths and mere connections;
- *fidelity* (:func:`recommend.hybrid.evidence.path_fidelity`): for the best score-carrying
  path, taking it out lowers its component's score of the item (a popularity path cannot be
  asked and is not counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.recommender import Recommender
    from recommend.results import ExplainedPath


@dataclass(frozen=True)
class ExplanationAudit:
    """Shares over the audited recommended items (``items``) and the fidelity sample."""

    users: int
    items: int
    with_valid_path: float
    with_score_path: float
    with_connection_only: float
    invalid_paths: int
    fidelity_checked: int
    fidelity_dropped: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def path_is_valid(graph: KnowledgeGraph, path: ExplainedPath) -> bool:
    """Every edge of ``path`` is stored (an aggregate hop: backed by stored edges,
    :func:`recommend.paths.privacy.hop_exists`) and the edges chain its nodes from user to
    item."""
    from recommend.paths.privacy import hop_exists

    if not path.edges or len(path.nodes) != len(path.edges) + 1:
        return False
    for t, (src, rel, dst) in enumerate(path.edges):
        if {src, dst} != {path.nodes[t], path.nodes[t + 1]} or not hop_exists(graph,
                                                                               (src, rel, dst)):
            return False
    return True


def audit_explanations(rec: Recommender, users: Sequence[str], *, k: int = 10,
                       fidelity_every: int = 1) -> ExplanationAudit:
    """Audit ``rec``'s top ``k`` for ``users`` (ids); fidelity on every ``fidelity_every``-th
    item that has a score-carrying path."""
    from recommend.hybrid.evidence import path_fidelity

    graph = rec.graph
    n_items = n_valid = n_score = n_conn = bad = 0
    drops: list[bool] = []
    seen_score = 0
    for user in users:
        for r in rec.recommend(user, k, explain=True):
            n_items += 1
            valid = [p for p in r.paths if path_is_valid(graph, p)]
            bad += len(r.paths) - len(valid)
            if not valid:
                continue
            n_valid += 1
            scored = [p for p in valid if p.kind == "score"]
            if not scored:
                n_conn += 1
                continue
            n_score += 1
            seen_score += 1
            if (seen_score - 1) % fidelity_every:
                continue
            best = max(scored, key=lambda p: p.contribution)
            dropped = path_fidelity(rec.model, graph, rec.user_id(user), r.item, best)
            if dropped is not None:
                drops.append(dropped)
    share = (lambda n: n / n_items) if n_items else (lambda n: 0.0)
    return ExplanationAudit(len(users), n_items, share(n_valid), share(n_score), share(n_conn),
                            bad, len(drops), float(np.mean(drops)) if drops else 0.0)
