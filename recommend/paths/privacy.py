"""Private by default: what an explanation may show, and the aggregate relations that stand in
for person-to-person evidence.

Rules (:class:`Privacy`):

- what one person bought, put in a cart, viewed, clicked or rated (:data:`PRIVATE_RELATIONS`)
  is never shown to another: no path names another user joined by such an edge;
- co-purchase evidence is shown only in aggregate, over at least ``min_people`` distinct
  people ("14 people who bought A also bought B"); so is the session's order evidence
  ("12 people who rated A rated B within the next hour", :mod:`recommend.paths.sequence`);
- people the user follows may be named for what they did in public (posts, likes, shares,
  comments), not for what was inferred about them (:data:`PERSONAL_RELATIONS`: interests,
  segments); nobody else is named for anything (a public post is shown with its author);
- gender and age segments (:data:`DEMOGRAPHIC_FACETS`) feed the graph scorer only when
  ``demographics`` is on, and never appear in a sentence.

Faithfulness: the meta-path catalogue (:mod:`recommend.paths.metapaths`) walks no private
hop, so no hidden path carries a score. The person-to-person walks it had
(``user -bought-> A <-bought- other -bought-> B``, and the same through a segment) are
replaced by one hop over an *aggregate relation* (:data:`AGGREGATES`), computed from the
graph's stored interactions by :func:`aggregate_matrix` (never stored, so it is always the
graph's current state and the validation split's training graph gets its own): ``A
-co_purchased-> B`` weighs ``sum over people u who bought both of w(u, A) w(u, B) /
deg(u)`` (the old walk's value up to the row normalisation) and exists only when at least
``min_people`` distinct people did both; ``segment -members_bought-> B`` likewise over the
segment's members (never every member but one: told to the one, it would name each), and
``user -followees_rated-> B`` over the people the user follows ("5 people you follow rated
B": who they are is never shown, only the user's own follows are counted, never another
person's, and never when every one of them did it, which would name each:
:data:`FOLLOWEE_AGGREGATES`). A hop over one is checked against the stored edges by
:func:`people` (:func:`hop_exists`). ``co_bought``
(association rules over baskets) is kept only where ``min_people`` distinct people bought
both. A count shown to a person reaches ``min_people`` without them
(:mod:`recommend.paths.counted_out`).

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> buyers = [f"user:{k}" for k in range(5)]
>>> g.add_edges("purchased", buyers + buyers[:2], ["product:A"] * 5 + ["product:B"] * 2)
>>> g.add_edges("purchased", buyers, ["product:C"] * 5)
>>> m = aggregate_matrix(g, "co_purchased", min_people=5)
>>> [(g.node_id("product", a), g.node_id("product", b)) for a, b in zip(*m.nonzero())]
[('product:A', 'product:C'), ('product:C', 'product:A')]
>>> people(g, ("product:A", "co_purchased", "product:B"))
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.interactions import POST_TIER, POST_TIER_RELATIONS
from kg.schema import Relation
from recommend.paths.counted_out import counts_reader
from recommend.paths.people_counts import MAX_KEPT, people_counts
from recommend.paths.sequence import SequenceHop, sequence_people

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["AGGREGATES", "COUNTED", "DEMOGRAPHIC_FACETS", "ENGAGED", "FOLLOWEE_AGGREGATES",
           "LINK_AGGREGATES", "PERSONAL_RELATIONS", "PRIVATE_RELATIONS", "PUBLIC_RELATIONS",
           "Aggregate", "Privacy", "aggregate_matrix", "counted",
           "demographic_ids", "demographic_segments", "doers_matrix", "hop_exists",
           "interactions_of", "members", "people", "user_column", "violations"]

#: A person's relations to products and posts that only they may be shown.
PRIVATE_RELATIONS = frozenset({"purchased", "carted", "viewed", "clicked", "rated"})
#: What no one else may see of a person: their private acts and what was inferred from
#: them (interests, segments).
PERSONAL_RELATIONS = PRIVATE_RELATIONS | {"interested_in", "member_of"}
#: What a followee may be named for: their public acts.
PUBLIC_RELATIONS = frozenset({"authored", "liked", "shared", "commented"})
#: Segment facets that stay out of the graph scorer unless asked for, and out of sentences.
DEMOGRAPHIC_FACETS = ("age", "gender")
#: Any event of a person on a product (the interaction of the ``co_engaged`` aggregate).
ENGAGED = "engaged"
_ENGAGEMENTS = ("viewed", "clicked", "liked", "commented", "shared", "carted", "purchased",
                "rated")
_BEHIND = {ENGAGED: _ENGAGEMENTS, POST_TIER: POST_TIER_RELATIONS}  # whose edges make the pairs
#: Relations whose hops are shown only over at least ``min_people`` people (counted on
#: ``purchased``): the rules-made ``co_bought`` and the aggregates.
COUNTED = frozenset({"co_bought"})


@dataclass(frozen=True)
class Privacy:
    """The privacy settings of the graph scorers and their explanations (module doc)."""

    min_people: int = 5
    demographics: bool = False

    def __post_init__(self) -> None:
        if self.min_people < 1:
            raise ValueError(f"min_people must be at least 1, not {self.min_people}")

    @classmethod
    def from_config(cls, config: Any) -> Privacy:
        """The settings of a :class:`recommend.hybrid.config.HybridConfig`
        (``privacy.min_people``, ``privacy.demographics``)."""
        return cls(int(config.privacy.min_people), bool(config.privacy.demographics))


@dataclass(frozen=True)
class Aggregate:
    """A relation computed from ``interaction`` edges: ``src_type`` (a product: the people
    who did it to the product too; a segment: its members; a user: the people they follow)
    -> product, over distinct people."""

    name: str
    interaction: str
    src_type: str
    verb: str

    @property
    def relation(self) -> Relation:
        return Relation(self.name, (self.src_type,), ("product",))


AGGREGATES: dict[str, Aggregate] = {a.name: a for a in (
    Aggregate("co_purchased", "purchased", "product", "bought"),
    Aggregate("co_rated", "rated", "product", "rated"),
    Aggregate("co_liked", "liked", "product", "liked"),
    Aggregate("co_carted", "carted", "product", "put in the cart"),
    Aggregate("co_clicked", "clicked", "product", "clicked on"),
    Aggregate("co_viewed", "viewed", "product", "viewed"),
    Aggregate("co_engaged", ENGAGED, "product", "showed interest in"),
    Aggregate("co_posted", POST_TIER, "product", "engaged with posts about"),  # (post tier)
    Aggregate("members_bought", "purchased", "segment", "bought"),
    Aggregate("members_rated", "rated", "segment", "rated"),
    Aggregate("members_engaged", ENGAGED, "segment", "showed interest in"),
    Aggregate("followees_bought", "purchased", "user", "bought"),
    Aggregate("followees_rated", "rated", "user", "rated"),
)}
#: The aggregates over the people a user follows (a hop from that user only).
FOLLOWEE_AGGREGATES = frozenset(a.name for a in AGGREGATES.values() if a.src_type == "user")


def demographic_segments(graph: KnowledgeGraph) -> np.ndarray:
    """Bool mask over the graph's segments: those of a :data:`DEMOGRAPHIC_FACETS` facet."""
    heads = tuple(f"{facet}-" for facet in DEMOGRAPHIC_FACETS)
    return np.array([graph.node_attrs(s).get("facet") in DEMOGRAPHIC_FACETS
                     or s.partition(":")[2].startswith(heads)
                     for s in graph.nodes("segment")], bool)


def interactions_of(interaction: str) -> tuple[str, ...]:
    """The stored relations behind an aggregate's ``interaction`` (:data:`ENGAGED`: all)."""
    return _ENGAGEMENTS if interaction == ENGAGED else (interaction,)


def _interactions(graph: KnowledgeGraph, relation: str) -> sp.csr_matrix:
    """(users x products) summed weights of ``relation`` (:data:`ENGAGED`: of every event
    relation), float64."""
    from kg.interactions import relation_matrix

    return relation_matrix(graph, interactions_of(relation))


def members(graph: KnowledgeGraph, *, demographics: bool) -> sp.csr_matrix:
    """(users x segments) 0/1 membership; demographic segments only if ``demographics``."""
    m = (graph.matrix("member_of", dst_type="segment", src_type="user") != 0).astype(np.float64)
    if not demographics and graph.num_nodes("segment"):
        m = m @ sp.diags((~demographic_segments(graph)).astype(np.float64))
    return sp.csr_matrix(m)


def followees(graph: KnowledgeGraph) -> sp.csr_matrix:
    """(users x users) 0/1: who follows whom, nobody counted as their own followee."""
    m = sp.csr_matrix(graph.matrix("follows", dst_type="user", src_type="user") != 0,
                      dtype=np.float64)
    m = sp.csr_matrix(m - sp.diags(m.diagonal()))
    m.eliminate_zeros()
    return m


def aggregate_matrix(graph: KnowledgeGraph, name: str, *, min_people: int,
                     demographics: bool = False, rows: np.ndarray | None = None
                     ) -> sp.csr_matrix:
    """The aggregate relation ``name``'s (sources x products) weights (module doc); entries
    with fewer than ``min_people`` distinct people are left out. With ``rows`` (sorted source
    indices), only those rows, (len(rows) x products), with the values of the full matrix."""
    agg = AGGREGATES[name]
    p = _interactions(graph, agg.interaction)
    did = (p != 0).astype(np.float64)
    deg = np.asarray(p.sum(axis=1)).ravel()
    inv = sp.diags(np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0))
    if agg.src_type == "product":
        mine = p
        if rows is not None:  # the rows' products only, the product computed the same way
            mask = np.zeros(p.shape[1])
            mask[rows] = 1.0
            mine = (p @ sp.diags(mask)).tocsr()
        left = (mine != 0).astype(np.float64).T.tocsr()
        weight = (mine.T @ inv @ p).tocsr()
        if rows is not None:
            left, weight = left[rows], weight[rows]
    else:
        left = (followees(graph) if agg.src_type == "user"
                else members(graph, demographics=demographics).T.tocsr())
        if rows is not None:
            left = left[rows]
        weight = (left @ inv @ p).tocsr()
    count = (left @ did).tocsr()
    if agg.src_type == "product":  # nobody counts for a product with itself
        own = np.arange(count.shape[0]) if rows is None else np.asarray(rows)
        count = count - count.multiply(sp.csr_matrix(
            (np.ones(len(own)), (np.arange(len(own)), own)), shape=count.shape))
    if agg.src_type != "product":  # never every one the user follows, nor every member
        count = sp.csr_matrix(count)  # but one (the reader): that would name each
        rows_of = np.repeat(np.arange(count.shape[0]), np.diff(count.indptr))
        count.data[count.data >= np.diff(left.indptr)[rows_of] - (agg.src_type == "segment")] = 0
    keep = (count >= min_people).astype(np.float64)
    out = sp.csr_matrix(weight.multiply(keep))
    out.eliminate_zeros()
    return out


def counted(graph: KnowledgeGraph, relation: str, m: sp.csr_matrix, *,
            min_people: int) -> sp.csr_matrix:
    """``m`` (a :data:`COUNTED` relation's product x product matrix) without the entries that
    fewer than ``min_people`` distinct people bought both ends of."""
    did = (_interactions(graph, "purchased") != 0).astype(np.float64)
    keep = (did.T @ did).multiply(m != 0) >= min_people
    out = sp.csr_matrix(m.multiply(keep))
    out.eliminate_zeros()
    return out


def people(graph: KnowledgeGraph, edge: tuple[str, str, str]) -> int:
    """How many distinct people stand behind an aggregate (or :data:`COUNTED`) hop, or a
    session hop (:func:`recommend.paths.sequence.sequence_people`)."""
    src, rel, dst = edge
    hop = SequenceHop.parse(rel)
    if hop is not None:
        return sequence_people(graph, src, dst, hop)
    interaction = AGGREGATES[rel].interaction if rel in AGGREGATES else "purchased"
    by_follows = rel in FOLLOWEE_AGGREGATES  # (kept counts: recommend.paths.people_counts)
    counts = people_counts(graph, interaction, by_follows, _BEHIND.get(interaction, (interaction,)))
    found = counts.get((src, dst))
    if found is not None:
        return found
    if not (graph.has_node(src) and graph.has_node(dst)) or not dst.startswith("product:"):
        return 0
    if not src.startswith("user:" if by_follows else ("segment:", "product:")):
        return 0
    doers = doers_matrix(graph, interaction)
    if by_follows:
        who = _followed(graph, src)
    elif src.startswith("segment:"):
        who = user_column(graph, ("member_of", "segment"), graph.index(src))
    else:
        who = user_column(graph, ("doers", interaction), graph.index(src), doers)
    them = user_column(graph, ("doers", interaction), graph.index(dst), doers)
    if len(counts) >= MAX_KEPT:  # bounded: a long-running server asks many pairs
        counts.clear()
    found = counts[(src, dst)] = int(np.intersect1d(who, them, assume_unique=True).size)
    return found


def _followed(graph: KnowledgeGraph, user: str) -> np.ndarray:
    """The sorted indices of the people ``user`` follows, not counting themselves."""
    if not graph.has_node(user):
        return np.zeros(0, np.int64)
    u = graph.index(user)
    f = graph.matrix("follows", dst_type="user", src_type="user")
    lo, hi = f.indptr[u], f.indptr[u + 1]
    who = np.unique(f.indices[lo:hi][f.data[lo:hi] != 0])
    return who[who != u]


def doers_matrix(graph: KnowledgeGraph, interaction: str) -> sp.csc_matrix:
    """(users x products) who did ``interaction`` to what, by column (kept until those
    relations gain edges or a node is added; :data:`ENGAGED`: the graph's "seen" matrix)."""
    if interaction == ENGAGED:
        from kg.interactions import seen_matrix

        def compute() -> sp.csc_matrix:
            return seen_matrix(graph).tocsc()
    else:
        def compute() -> sp.csc_matrix:
            return _interactions(graph, interaction).tocsc()
    key = ("privacy doers", interaction)
    return graph.cached_for(key, _BEHIND.get(interaction, (interaction,)), compute)


def user_column(graph: KnowledgeGraph, key: tuple[str, str], j: int,
            matrix: sp.csc_matrix | None = None) -> np.ndarray:
    """The sorted user indices of column ``j`` of the doers (or the segment membership)."""
    if matrix is None:
        matrix = graph.cached_for(
            ("privacy members", key[1]), ("member_of",),
            lambda: sp.csc_matrix(graph.matrix("member_of", dst_type="segment",
                                               src_type="user")))
    if j >= matrix.shape[1]:
        return np.zeros(0, np.int64)
    col = matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]
    values = matrix.data[matrix.indptr[j]:matrix.indptr[j + 1]]
    col = col[values != 0]
    # a canonical column is sorted without repeats already (the check runs once per matrix)
    return col if matrix.has_canonical_format else np.unique(col)


#: The co-interaction aggregates a connection may use, strongest first.
LINK_AGGREGATES = ("co_purchased", "co_carted", "co_rated", "co_liked", "co_clicked",
                   "co_viewed", "co_engaged")


def hop_exists(graph: KnowledgeGraph, edge: tuple[str, str, str]) -> bool:
    """A stored edge, or an aggregate (or session) hop that at least one person's stored
    edges back."""
    if edge[1] in AGGREGATES or SequenceHop.parse(edge[1]) is not None:
        return people(graph, edge) > 0
    return graph.has_edge(*edge)


def demographic_ids(graph: KnowledgeGraph) -> frozenset[str]:
    """Ids of the demographic segments (kept until the graph changes: every explained path
    is checked against them)."""
    return graph.cached_for("privacy demographic ids", (), lambda: frozenset(
        s for s, d in zip(graph.nodes("segment"), demographic_segments(graph), strict=True)
        if d))


def violations(graph: KnowledgeGraph, you: str | None, edges: Sequence[tuple[str, str, str]],
               *, min_people: int = 5, demographic: frozenset[str] | None = None) -> list[str]:
    """What a path served to ``you`` (None: to anyone, e.g. item to item) shows that it must
    not (empty: nothing): another person's private act, someone not followed named, a
    demographic segment (``demographic``: :func:`demographic_ids`, computed if None), an
    aggregate over fewer than ``min_people`` people (besides ``you``, who may be one of
    them), a count over someone else's follows."""
    out = []
    if demographic is None:
        demographic = demographic_ids(graph)
    followed: set[str] | None = None  # (asked only of a path naming another user)
    for src, rel, dst in edges:
        for end in (src, dst):
            if end in demographic:
                out.append(f"rests on the demographic segment {end}")
            if end != you and end.startswith("user:"):
                if followed is None:
                    followed = {d for s, r, d in edges if r == "follows" and s == you}
                if end not in followed:
                    out.append(f"names {end}, whom {you or 'nobody'} follows")
                elif rel in PERSONAL_RELATIONS:
                    out.append(f"shows {end}'s private {rel} edge")
        counts = _counts(rel)
        if counts == _FOLLOWEES and src != you:
            out.append(f"{src} {rel} {dst} counts the follows of someone else")
        elif counts == _FOLLOWEES and people(graph, (src, rel, dst)) >= len(
                _followed(graph, src)):
            out.append(f"{src} {rel} {dst} counts every one {src} follows, naming each")
        elif counts and (n := people(graph, (src, rel, dst))) < min_people + (
                n == min_people and counts_reader(graph, you, src, rel, dst)):
            out.append(f"{src} {rel} {dst} is over fewer than {min_people} people"
                       + (f" besides {you}" if n >= min_people else ""))
        elif counts and src.startswith("segment:") and n >= _sizes(graph)[graph.index(src)] - 1:
            out.append(f"{src} {rel} {dst} counts every other member of {src}, naming each")
    return out


def _sizes(graph: KnowledgeGraph) -> np.ndarray:
    """Members per segment index (kept until ``member_of`` changes)."""
    return graph.cached_for(("privacy segment sizes",), ("member_of",), lambda: np.asarray(
        (graph.matrix("member_of", dst_type="segment", src_type="user") != 0).sum(axis=0)
    ).ravel())


_FOLLOWEES, _PEOPLE = 1, 2
_counted: dict[str, int] = {}  # per relation name (a few): what its hop counts


def _counts(rel: str) -> int:
    """What ``rel``'s hop counts: 0 nothing, 1 followees, 2 people (an aggregate...)."""
    found = _counted.get(rel)
    if found is None:
        found = (_FOLLOWEES if rel in FOLLOWEE_AGGREGATES else _PEOPLE if rel in AGGREGATES
                 or rel in COUNTED or SequenceHop.parse(rel) is not None else 0)
        _counted.update({rel: found} if len(_counted) < 4096 else {})  # (bounded)
    return found
