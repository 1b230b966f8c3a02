"""Lookalikes: more users like a brand's known customers, and the traits they share.

A seed file (``customers.csv``) lists user ids, one per line in its first column (an optional
header ``user``, ``user_id``, ``id``, ``customer`` or ``customer_id``; other columns are
ignored). It is checked whole before anything is scored: a line that is not UTF-8, a blank id
or an id the graph lacks is an error naming the file and line; a repeated id is merged and
counted.

Each user is described by the rows of two blocks, each scaled to unit length: their traits
(:func:`recommend.marketer.summary.trait_matrix`: segments other than gender and age,
interests, location) and the products they engaged with, weighted by inverse document
frequency (a product everyone has says little). The seeds' mean row is the profile to match;
a user's score is their row's dot product with it (a cosine up to the profile's length), seeds
excluded.

What the lookalikes share with the seeds is told for the group, never per person
(interests and segments are inferred about a person, :data:`recommend.paths.privacy.
PERSONAL_RELATIONS`): the traits over-represented (lift > 1) both among the seeds and among
the lookalikes, each held by at least ``min_people`` of both and lacked by as many
(:mod:`recommend.marketer.summary`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.marketer.summary import AudienceSummary, Trait, summarise, trait_matrix
from recommend.shown import shown_number

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kg.graph import KnowledgeGraph

__all__ = ["Lookalikes", "find_lookalikes", "read_seed"]

HEADERS = frozenset({"user", "user_id", "id", "customer", "customer_id"})


@dataclass(frozen=True)
class SeedUsers:
    """The users of a seed file (graph indices, in file order) and how many repeats merged."""

    users: np.ndarray
    merged: int = 0


@dataclass(frozen=True)
class Lookalikes:
    """Users like the seeds (best first, with scores), the traits both groups share, and
    each group's summary."""

    members: list[tuple[str, float]]
    shared: list[tuple[Trait, Trait]]
    seeds: AudienceSummary
    found: AudienceSummary
    merged: int = 0
    sentences: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"members": [{"user": u, "score": shown_number(s)} for u, s in self.members],
                "shared": [{"seeds": a.to_json(), "lookalikes": b.to_json()}
                           for a, b in self.shared],
                "seeds": self.seeds.to_json(), "lookalikes": self.found.to_json(),
                "merged_repeats": self.merged, "sentences": self.sentences}


def read_seed(path: Path, graph: KnowledgeGraph, typed: Callable[[str], str]) -> SeedUsers:
    """The users listed in ``path`` (module docstring); ``typed`` types a raw id."""
    users: list[int] = []
    known: set[int] = set()
    merged = 0
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{path}:{line_no}: not UTF-8 text") from None
            if not text.strip():
                continue
            cells = next(csv.reader(io.StringIO(text)), [""])
            cell = cells[0].strip() if cells else ""
            if line_no == 1 and cell.lower() in HEADERS:
                continue
            if not cell:
                raise ValueError(f"{path}:{line_no}: no user id in the first column")
            try:
                uid = typed(cell)
            except ValueError as err:
                raise ValueError(f"{path}:{line_no}: {err}") from None
            if not graph.has_node(uid):
                raise ValueError(f"{path}:{line_no}: unknown user {cell!r} (no {uid!r} in "
                                 "the graph)")
            u = graph.index(uid)
            if u in known:
                merged += 1
                continue
            known.add(u)
            users.append(u)
    if not users:
        raise ValueError(f"{path}: no user ids")
    return SeedUsers(np.array(users, np.int64), merged)


def _unit_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.diags(scale) @ m


def user_features(graph: KnowledgeGraph, seen: sp.csr_matrix) -> sp.csr_matrix:
    """(users x (traits + products)): unit trait rows beside unit idf-weighted history rows."""
    traits, _ = trait_matrix(graph)
    n_users = graph.num_nodes("user")
    history = sp.csr_matrix(seen[:n_users], dtype=np.float64)
    if history.shape[0] < n_users:
        history = sp.vstack([history, sp.csr_matrix((n_users - history.shape[0],
                                                     history.shape[1]))]).tocsr()
    df = np.asarray((history > 0).sum(axis=0)).ravel()
    idf = np.log((1 + n_users) / (1 + df)) + 1.0
    weighted = (history > 0).astype(np.float64) @ sp.diags(idf)
    return sp.hstack([_unit_rows(traits), _unit_rows(weighted.tocsr())]).tocsr()


def _shared(graph: KnowledgeGraph, traits: list[Trait], group: np.ndarray, among: np.ndarray,
            min_people: int) -> list[tuple[Trait, Trait]]:
    """The seeds' over-represented ``traits`` that are over-represented in ``group`` too
    (against ``among``), held by at least ``min_people`` of it and not held by as many:
    (seeds', group's) trait."""
    m, names = trait_matrix(graph)
    col = {node: j for j, (_, node) in enumerate(names)}
    out = []
    for t in traits:
        j = col[t.node]
        count = int(m[group, j].sum())
        share, base = count / max(len(group), 1), float(m[among, j].sum()) / max(len(among), 1)
        if (t.lift > 1 and min(count, len(group) - count) >= min_people
                and share > base):
            out.append((t, Trait(t.kind, t.node, t.label, count, share, base, share / base)))
    return out


def find_lookalikes(graph: KnowledgeGraph, seen: sp.csr_matrix, seeds: Sequence[int] | np.ndarray,
                    n: int, *, min_people: int, merged: int = 0) -> Lookalikes:
    """The ``n`` users most like the seed user indices (module docstring)."""
    seeds = np.asarray(seeds, np.int64)
    feats = user_features(graph, seen)
    profile = np.asarray(feats[seeds].mean(axis=0)).ravel()
    scores = feats @ profile
    scores[seeds] = -np.inf
    ok = np.flatnonzero(np.isfinite(scores) & (scores > 0))
    if len(ok) > n:
        ok = ok[np.argpartition(-scores[ok], n - 1)[:n]]
    top = ok[np.lexsort((ok, -scores[ok]))]
    others = np.setdiff1d(np.arange(graph.num_nodes("user")), seeds)
    of_seeds = summarise(graph, seeds, min_people=min_people)
    found = summarise(graph, top, min_people=min_people, among=others)
    shared = _shared(graph, of_seeds.traits, top, others, min_people)
    sentences = [f"Shared with your customers: {a.label} ({a.share:.0%} of them, "
                 f"{b.share:.0%} of the lookalikes, {a.base:.0%} overall)." for a, b in shared]
    if of_seeds.spending and found.spending:
        sentences.append(f"Spending power: {of_seeds.spending} for your customers, "
                         f"{found.spending} for the lookalikes.")
    members = [(graph.node_id("user", int(u)), float(scores[u])) for u in top]
    return Lookalikes(members, shared, of_seeds, found, merged, sentences)
