"""Which of an item's score-carrying paths to show: a utility, not just the largest share.

The paths that carry an item's graph and social score are many; the shopper sees at most
``paths.max_paths``. Showing the largest shares alone tends to show three copies of one pattern,
resting on a purchase made years ago, through "Beauty". :func:`select_paths` chooses
greedily, item by item in rank order, the path of largest utility

    share / top share  +  recency * LIR  +  specificity * (1 - SEP)  +  diversity * novelty

- only paths that carry part of the score are candidates (a zero share is never shown), and
  the ranking is not touched: selection only chooses among an item's own paths;
- LIR and SEP are :mod:`recommend.paths.quality`'s (a path without a timed linking
  interaction or a shared entity counts 0.5: neither recent nor old, neither niche nor broad);
- novelty is half for a type (meta-path) not yet shown under this item, half for one not yet
  shown anywhere in the list so far (this item's paths included);
- then, across the list: the first path under each item is its headline (what a shopper
  reads scanning down the list, and what ETD counts). While some item has a candidate of a
  type that is no item's headline, the cheapest swap that makes it one is made, if its
  utility loss (the headline's utility without novelty minus the candidate's) is below
  ``diversity``: one more headline type is worth that much (of equal losses, the swap in the
  lower-ranked item). A swap never takes away the list's only headline of a type, never
  touches the top item (its paths stay what explaining it alone gives), and the promoted
  path is one of the item's own score-carrying paths (it replaces the item's last chosen
  path when the item is full).

All weights 0 is the plain largest-share order. The weights are :class:`recommend.hybrid.
config.HybridConfig` fields (``paths.recency_weight``, ``paths.specificity_weight``,
``paths.diversity_weight``), measured on a grid over validation users of ML-100K and Amazon
Beauty (bench/explanation_quality.py ``--tune``, objective LIR + ETD + 0.5 (1 - SEP)). On
ML-100K the objective rose further with recency 2 (LIR 0.85 against 0.78 at 1), but it has no
term for the share a path carries, and every step of recency weight lets a path carrying less
of the score displace a larger one; recency 1 already clears the 0.70 target, so it is the
default. Specificity 0.5 with diversity 1 was ML-100K's best at either recency; Beauty (no
timestamps, so recency does nothing) preferred diversity 2 (validation ETD 0.56 against 0.41),
at a small cost on ML-100K (objective 1.569 against 1.573): a candidate default not yet
re-measured on the test users of both.

The candidates are the paths carrying at least ``paths.min_share`` of the item's score. On
ML-100K (session 10's artifact) the blend gives cf ~77% of every item's score, the session ~17%
and the graph ~6%, which its genre, decade and co-rating instances split further (an instance
carries 0.1-0.8%); content and popularity weigh negatively. At a 2% floor only cf and session
paths (and a rare graph one) are candidates: about 2.4-2.7 types per user's top 10, so ETD
cannot reach 0.30 whatever the weights. On 60 validation users of ML-100K (the bench's,
defaults above), by floor 2 / 1.5 / 1 / 0.75 / 0.5 / 0.25%: ETD 0.243 / 0.263 / 0.300 / 0.333 /
0.359 / 0.385, LIR 0.706 / 0.745 / 0.771 / 0.788 / 0.812 / 0.839, SEP 0.888 / 0.874 / 0.855 /
0.839 / 0.824 / 0.816; the headline carries on average 6.98 / 6.82 / 6.65 / 6.34 / 5.96 / 5.87%
of its item's score (a cf path's share is small: the score splits over the user's many rated
films), the shown paths together 17.1 / 16.3 / 15.4 / 14.6 / 13.4 / 12.3%; fidelity 100% at 2,
1, 0.75 and 0.5% (every fifth shown score path checked). The objective rises as the floor falls
even with the utility's share term (the headline's share over the item's largest), so it cannot
choose the floor: 1% is the highest floor at which validation ETD reaches 0.30, the least share
given up for it (the default).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from recommend.paths.instances import Memo
from recommend.paths.quality import (
    entity_popularity,
    interaction_recency,
    linking_interaction,
    shared_entity,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.explain import Path

__all__ = ["Selection", "select_paths"]

T = TypeVar("T")
NEUTRAL = 0.5


@dataclass(frozen=True)
class Selection:
    """The utility's weights (module doc); the share's weight is 1."""

    recency: float = 1.0
    specificity: float = 0.5
    diversity: float = 1.0

    def __post_init__(self) -> None:
        for name in ("recency", "specificity", "diversity"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ValueError(f"Selection.{name} must be a finite number >= 0, got {value!r}")

    @classmethod
    def from_config(cls, config: Any) -> Selection:
        """The weights of a :class:`recommend.hybrid.config.HybridConfig`."""
        return cls(config.paths.recency_weight, config.paths.specificity_weight,
                   config.paths.diversity_weight)

    @property
    def active(self) -> bool:
        """False when every weight is 0 (largest shares first, nothing else)."""
        return bool(self.recency or self.specificity or self.diversity)


def select_paths(
    graph: KnowledgeGraph,
    user_id: str,
    candidates: Sequence[Sequence[tuple[float, T, Path]]],
    max_paths: int,
    selection: Selection,
    *,
    times: dict[tuple[str, str], float] | None = None,
    said: Callable[[tuple[float, T, Path]], str] | None = None,
) -> list[list[tuple[float, T, Path]]]:
    """Per item (in rank order), up to ``max_paths`` of its ``(share, tag, path)`` candidates,
    in the order chosen (module doc); candidates with no share are dropped. ``times``: the
    user's :func:`~recommend.paths.quality.user_interactions`, when the caller has them.
    ``said``: a candidate's sentence; an item never shows two paths that read the same (two
    stored routes a shopper cannot tell apart, say a co-purchase count and an association
    rule between the same products): the later one is passed over for the next best."""
    recency = interaction_recency(graph, user_id, times=times) if selection.recency else {}
    active, diversity = selection.active, selection.diversity
    recency_weight, specificity = selection.recency, selection.specificity
    popularity: dict[str, np.ndarray] = {}  # per entity type, asked once per call
    seps: dict[str, float] = {}  # per shared entity, read once per call
    listed: set[str | None] = set()
    pools: list[list[tuple[float, T, Path]]] = []
    bases: list[list[float]] = []
    picks: list[list[int]] = []
    for item in candidates:
        pool = [c for c in item if c[0] > 0]
        pools.append(pool)
        if not pool:
            bases.append([])
            picks.append([])
            continue
        top = max([c[0] for c in pool])
        base = [c[0] / top + recency_weight * _lir(recency, c[2])
                + specificity * (1.0 - _sep(graph, c[2], popularity, seps))
                for c in pool] if active else [c[0] / top for c in pool]
        bases.append(base)
        kinds = [c[2].metapath for c in pool]
        chosen: list[int] = []
        taken: set[int] = set()  # chosen, or passed over: read like a path already chosen
        sentences: set[str] = set()
        shown: set[str | None] = set()
        while len(chosen) < max_paths and len(taken) < len(pool):
            best, value = -1, -np.inf
            for j, kind in enumerate(kinds):
                if j in taken:
                    continue
                novelty = 0.5 * (kind not in shown) + 0.5 * (kind not in listed)
                u = base[j] + diversity * novelty
                if u > value + 1e-12:
                    best, value = j, u
            if said is not None:
                sentence = said(pool[best])
                if sentence in sentences:
                    taken.add(best)
                    continue
                sentences.add(sentence)
            chosen.append(best)
            taken.add(best)
            shown.add(pool[best][2].metapath)
            listed.add(pool[best][2].metapath)
        picks.append(chosen)
    if selection.diversity > 0:
        _vary_headlines(pools, bases, picks, max_paths, selection.diversity, said)
    return [[pool[j] for j in chosen] for pool, chosen in zip(pools, picks, strict=True)]


def _vary_headlines(pools: list[list[tuple[float, T, Path]]], bases: list[list[float]],
                    picks: list[list[int]], max_paths: int, diversity: float,
                    said: Callable[[tuple[float, T, Path]], str] | None = None) -> None:
    """Make more types headlines across the list (module doc), swapping in ``picks``; a
    candidate reading like a path its item keeps is never swapped in (``said``)."""
    passed: set[tuple[int, int]] = set()
    heads: dict[str | None, int] = {}
    for pool, chosen in zip(pools, picks, strict=True):
        if chosen:
            kind = pool[chosen[0]][2].metapath
            heads[kind] = heads.get(kind, 0) + 1
    while True:
        best: tuple[float, int, int] | None = None
        for i, (pool, base, chosen) in enumerate(zip(pools, bases, picks, strict=True)):
            if i == 0 or not chosen or heads[pool[chosen[0]][2].metapath] < 2:
                continue  # the top item and the list's only headline of a type stay
            for j, c in enumerate(pool):
                if c[2].metapath in heads or (i, j) in passed:
                    continue
                loss = base[chosen[0]] - base[j]
                # ties: the lower-ranked item, so the top items keep their best reason
                if loss < diversity and (best is None or loss <= best[0] + 1e-12):
                    best = (loss, i, j)
        if best is None:
            return
        _, i, j = best
        chosen, pool = picks[i], pools[i]
        rest = [x for x in chosen if x != j][:max_paths - 1]
        if said is not None and said(pool[j]) in {said(pool[x]) for x in rest}:
            passed.add((i, j))
            continue
        heads[pool[chosen[0]][2].metapath] -= 1
        heads[pool[j][2].metapath] = 1
        picks[i] = [j, *rest]


def _lir(recency: dict[tuple[str, str], float], path: Path) -> float:
    link = linking_interaction(path.nodes, path.edges)
    value = None if link is None else recency.get(link)
    return NEUTRAL if value is None else value


def _sep(graph: KnowledgeGraph, path: Path, popularity: dict[str, np.ndarray],
         seps: dict[str, float]) -> float:
    """The path's shared entity's popularity (``popularity``: kept per entity type; ``seps``:
    per entity, the paths of a list sharing a few)."""
    node = shared_entity(path.nodes, path.edges)
    if node is None:
        return NEUTRAL
    found = seps.get(node)
    if found is None:
        kind = node.partition(":")[0]
        values = popularity.get(kind)
        if values is None:
            values = popularity[kind] = entity_popularity(graph, kind)
        known = _known(values, None, dict)  # (read across requests while the values live)
        found = known.get(node)
        if found is None:
            found = float(values[graph.index(node)])
            if len(known) < _KNOWN:  # (a big world's posts: not every one kept)
                known[node] = found
        seps[node] = found
    return found


#: Per array of :func:`~recommend.paths.quality.entity_popularity` values: the SEP of each
#: node read from it so far, by id (each node's read once per graph version, not per request).
_known = Memo(16)
_KNOWN = 50_000  # at most this many SEPs kept per array (~5 MB)
