"""Fidelity: does taking a path's edges out of the graph lower the item's graph score?

:func:`fidelity_check` removes a path's edges and re-scores: ``mode="mask"`` zeroes their entries
in the normalised step matrices (degrees frozen: exactly the score the path's edges carry);
``mode="remove"`` drops them from the raw relations and re-normalises, as if the edges had never
been in the graph (KOL weights kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from recommend.paths.instances import path_value
from recommend.paths.metapaths import normalize_step, raw_step_matrix

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.explain import Path
    from recommend.paths.scorer import GraphPathScorer

__all__ = ["Fidelity", "fidelity_check"]


@dataclass(frozen=True)
class Fidelity:
    """The item's graph score before and after removing a path's edges."""

    before: float
    after: float
    mode: Literal["mask", "remove"]

    @property
    def dropped(self) -> bool:
        return self.after < self.before * (1 - 1e-9)


def fidelity_check(
    graph: KnowledgeGraph,
    user_id: str,
    item_id: str,
    path: Path,
    scorer: GraphPathScorer,
    *,
    mode: Literal["mask", "remove"] = "mask",
) -> Fidelity:
    """The item's graph score before and after taking ``path``'s edges out (module doc)."""
    removed: dict[tuple[str, str, str], set[tuple[int, int]]] = {}
    for src, rel, dst in path.edges:
        key = (src.partition(":")[0], rel, dst.partition(":")[0])
        removed.setdefault(key, set()).add((graph.index(src), graph.index(dst)))
    u, i = graph.index(user_id), graph.index(item_id)
    kol = None if scorer.kol_ is None else scorer.kol_.weights
    before = after = 0.0
    for mp, w in zip(scorer.metapaths_, scorer.weights_, strict=True):
        if w <= 0:
            continue
        mats = list(scorer.steps_[mp.name])
        value = path_value(mats, u, i)
        types = mp.types
        changed = False
        for t, step in enumerate(mp.steps):
            a, b = types[t], types[t + 1]
            if step.direction == "out":
                cells = list(removed.get((a, step.relation, b), ()))
            else:
                cells = [(y, x) for x, y in removed.get((b, step.relation, a), ())]
            if not cells:
                continue
            base = mats[t] if mode == "mask" else raw_step_matrix(graph, step, a, kol=kol)
            mats[t] = _zero(base, cells)
            if mode == "remove":
                mats[t] = normalize_step(mats[t], scorer.normalize)
            changed = True
        before += float(w * value)
        after += float(w * (path_value(mats, u, i) if changed else value))
    return Fidelity(before, after, mode)


def _zero(m: sp.csr_matrix, cells: Sequence[tuple[int, int]]) -> sp.csr_matrix:
    """A copy of ``m`` with the given cells set to 0 (removed)."""
    out = m.copy()
    for r, c in cells:
        lo, hi = out.indptr[r], out.indptr[r + 1]
        out.data[lo + np.flatnonzero(out.indices[lo:hi] == c)] = 0.0
    out.eliminate_zeros()
    return out
