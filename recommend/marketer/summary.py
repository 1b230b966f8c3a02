"""A group of users summarised in words: segments, interests, location, spending power.

Used for a product's audience and for the shared traits of lookalikes. Each trait is
compared with a reference group (the users who could have been chosen): its share in the
group, its share in the reference and the ratio (``lift``). Only what may be shown of a
crowd is shown: a trait held by fewer than ``min_people`` members of the group is left out
(one person's interests or town would be recognisable), and so is one held by all but fewer
than ``min_people`` (every listed member would be known to have it), gender and age segments
never
appear (:data:`recommend.paths.privacy.DEMOGRAPHIC_FACETS`), and spending power is a band of
the group's median, not anyone's figure.

Traits: ``segment`` (``member_of`` segments other than the demographic ones), ``interest``
(``interested_in`` categories, brands, concepts), ``location`` (the users' ``location``
attribute) and ``spending`` (the median of the profiles' spending power, a price percentile
within the leaf category, :mod:`recommend.profiles.features`, in thirds: budget, mid-range,
premium).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.shown import shown_name

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["AudienceSummary", "Trait", "summarise", "trait_matrix"]

#: Traits shown per kind (highest lift first).
PER_KIND = 3
BANDS = ("budget", "mid-range", "premium")


@dataclass(frozen=True)
class Trait:
    """A trait of ``count`` group members: its ``share`` of the group, ``base`` share of the
    reference users, ``lift`` = share / base."""

    kind: str
    node: str
    label: str
    count: int
    share: float
    base: float
    lift: float

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "node": self.node, "label": self.label, "count": self.count,
                "share": round(self.share, 4), "base": round(self.base, 4),
                "lift": round(self.lift, 3)}


@dataclass(frozen=True)
class AudienceSummary:
    """Traits by kind and one sentence per kind."""

    size: int
    traits: list[Trait] = field(default_factory=list)
    spending: str | None = None
    sentences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "traits": [t.to_json() for t in self.traits],
                "spending": self.spending, "sentences": self.sentences}


def _label(graph: KnowledgeGraph, node: str) -> str:
    attrs = graph.node_attrs(node)
    return shown_name(attrs.get("name") or attrs.get("title") or node.partition(":")[2])


def _locations(graph: KnowledgeGraph) -> tuple[sp.csr_matrix, list[str]]:
    def compute() -> tuple[sp.csr_matrix, list[str]]:
        values = [graph.node_attrs(u).get("location") for u in graph.nodes("user")]
        names = sorted({str(v).strip() for v in values if v and str(v).strip()})
        pos = {n: j for j, n in enumerate(names)}
        rows = [r for r, v in enumerate(values) if v and str(v).strip()]
        cols = [pos[str(values[r]).strip()] for r in rows]
        m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(values), len(names)))
        return m, [f"location:{n}" for n in names]

    return graph.cached("marketer.locations", compute)


def trait_matrix(graph: KnowledgeGraph) -> tuple[sp.csr_matrix, list[tuple[str, str]]]:
    """(users x traits) 0/1 over every segment (not demographic), interest and location,
    with each column's (kind, node id); kept until the graph changes."""
    from recommend.paths.privacy import demographic_segments

    def compute() -> tuple[sp.csr_matrix, list[tuple[str, str]]]:
        n_users = graph.num_nodes("user")
        blocks, names = [], []
        if graph.num_nodes("segment"):
            keep = np.flatnonzero(~demographic_segments(graph))
            seg = graph.matrix("member_of", "segment", "user")[:, keep]
            blocks.append(seg)
            names += [("segment", graph.node_id("segment", int(j))) for j in keep]
        for t in ("category", "brand", "concept"):
            if graph.num_nodes(t):
                blocks.append(graph.matrix("interested_in", t, "user"))
                names += [("interest", s) for s in graph.nodes(t)]
        loc, loc_names = _locations(graph)
        blocks.append(loc)
        names += [("location", s) for s in loc_names]
        m = sp.hstack(blocks).tocsr() if blocks else sp.csr_matrix((n_users, 0))
        m.data[:] = 1.0
        m.eliminate_zeros()
        return m.astype(np.float64).tocsr(), names

    return graph.cached("marketer.traits", compute)


def spending_power(graph: KnowledgeGraph) -> np.ndarray:
    """Every user's spending power (a price percentile in [0, 1], NaN when unknown)."""
    def compute() -> np.ndarray:
        from recommend.profiles import build_profiles, inputs_from_graph

        return build_profiles(inputs_from_graph(graph)).scalar("spending_power")

    return graph.cached("marketer.spending", compute)


def _band(value: float) -> str:
    return BANDS[min(int(value * 3), 2)]


def summarise(graph: KnowledgeGraph, group: np.ndarray, *, min_people: int,
              among: np.ndarray | None = None) -> AudienceSummary:
    """The traits of user indices ``group`` against ``among`` (default: every user)."""
    group = np.asarray(group, np.int64)
    n_users = graph.num_nodes("user")
    among = np.arange(n_users) if among is None else np.asarray(among, np.int64)
    if len(group) == 0:
        return AudienceSummary(0)
    m, names = trait_matrix(graph)
    count = np.asarray(m[group].sum(axis=0)).ravel()
    base = np.asarray(m[among].sum(axis=0)).ravel() / max(len(among), 1)
    share = count / len(group)
    lift = np.divide(share, base, out=np.zeros_like(share), where=base > 0)
    traits: list[Trait] = []
    sentences: list[str] = []
    for kind, what in (("segment", "segments"), ("interest", "interests"),
                       ("location", "places")):
        cols = [j for j, (k, _) in enumerate(names) if k == kind and count[j] >= min_people
                and len(group) - count[j] >= min_people]
        cols.sort(key=lambda j: (-lift[j], -count[j], names[j][1]))
        chosen = [Trait(kind, names[j][1], _label(graph, names[j][1]) if kind != "location"
                        else shown_name(names[j][1].partition(":")[2]), int(count[j]),
                        float(share[j]), float(base[j]), float(lift[j])) for j in cols[:PER_KIND]]
        traits += chosen
        if chosen:
            sentences.append(f"Top {what}: " + "; ".join(
                f"{t.label} ({t.share:.0%} of them, {t.lift:.1f}x the {t.base:.0%} overall)"
                for t in chosen) + ".")
    band = None
    power = spending_power(graph)
    mine, ref = power[group], power[among]
    if np.isfinite(mine).sum() >= min_people and np.isfinite(ref).any():
        med, ref_med = float(np.nanmedian(mine)), float(np.nanmedian(ref))
        band = _band(med)
        sentences.append(f"Spending power: {band} (median price percentile {med:.0%} within "
                         f"their categories, against {ref_med:.0%} overall).")
    return AudienceSummary(len(group), traits, band, sentences)
