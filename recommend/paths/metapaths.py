"""Meta-paths: typed walks from a user to a product, scored as sparse matrix products.

A meta-path is a sequence of :class:`Step` s, each a relation followed ``"out"`` (source ->
destination, as the edge is stored) or ``"in"`` (against it), starting at a user and ending at
a product. Its score matrix is the product of one (n_from x n_to) CSR per step, compiled from
:meth:`kg.graph.KnowledgeGraph.matrix`, so the same catalogue runs on any graph: a meta-path is
used only when every relation it names has edges (:func:`available_metapaths`).

Degree normalisation (``normalize``) keeps hubs (a brand with 5,000 products, a best-seller
bought by everyone) from dominating:

- ``"row"`` (default): each step is row-normalised, so the score is the probability that a
  random walk following the meta-path from the user ends at the item (PathSim/PRA-style).
  Scores of different meta-paths are then on one scale (each user's row sums to at most 1),
  which is what makes fitting one weight per meta-path meaningful.
- ``"symmetric"``: each step is ``D_r^-1/2 A D_c^-1/2`` (penalises popular destinations too).
- ``"none"``: raw weighted path counts.

The score decomposes exactly over concrete paths: ``M[u, i] = sum over paths u=x0..xk=i of
prod_t S_t[x_(t-1), x_t]``; :mod:`recommend.paths.explain` uses that to give each path its
share of an item's score.

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> g.add_edges("purchased", ["user:1"], ["product:A"])
>>> g.add_edges("co_bought", ["product:A", "product:A"], ["product:B", "product:C"])
>>> mp = MetaPath("bought_cobought", (Step("purchased", node_type="product"), Step("co_bought")))
>>> metapath_matrix(g, mp).toarray().round(2).tolist()
[[0.0, 0.5, 0.5]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from kg.schema import Relation, relation
from recommend.paths.privacy import (
    AGGREGATES,
    COUNTED,
    Privacy,
    aggregate_matrix,
    counted,
    demographic_segments,
    interactions_of,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = [
    "DEFAULT_METAPATHS",
    "MetaPath",
    "Normalize",
    "Step",
    "available_metapaths",
    "catalogue",
    "metapath_matrix",
    "normalize_step",
    "raw_step_matrix",
    "step_matrices",
]

Normalize = Literal["row", "symmetric", "none"]
Direction = Literal["out", "in"]


def step_relation(name: str) -> Relation:
    """A stored relation of :mod:`kg.schema` or an aggregate of :mod:`recommend.paths.privacy`."""
    agg = AGGREGATES.get(name)
    return agg.relation if agg is not None else relation(name)


@dataclass(frozen=True, slots=True)
class Step:
    """Follow ``relation`` out of (``"out"``) or into (``"in"``) the current node.

    ``node_type`` is the type reached; it may be left out when the relation reaches one type
    only on that side. ``reweight="kol"`` scales each reached user by its influencer (PageRank)
    weight before normalisation (see :mod:`recommend.paths.social`). ``min_people`` keeps of
    an aggregate or ``co_bought`` step only what at least that many people did, and
    ``demographics`` lets a ``member_of`` or segment aggregate step use gender and age
    segments (:mod:`recommend.paths.privacy`).
    """

    relation: str
    direction: Direction = "out"
    node_type: str | None = None
    reweight: Literal["kol"] | None = None
    min_people: int = 0
    demographics: bool = False

    def __post_init__(self) -> None:
        if self.direction not in ("out", "in"):
            raise ValueError(f"step {self.relation}: direction must be 'out' or 'in'")
        step_relation(self.relation)  # unknown relation -> ValueError naming the known ones

    def reached_type(self, from_type: str) -> str:
        """The node type this step reaches from ``from_type`` (ValueError if impossible)."""
        rel = step_relation(self.relation)
        here, there = (
            (rel.src_types, rel.dst_types) if self.direction == "out"
            else (rel.dst_types, rel.src_types)
        )
        if from_type not in here:
            raise ValueError(
                f"step {self.relation}/{self.direction} cannot start at a {from_type} node"
            )
        if self.node_type is None:
            if len(there) > 1:
                raise ValueError(
                    f"step {self.relation}/{self.direction} reaches {there}: give node_type"
                )
            return there[0]
        if self.node_type not in there:
            raise ValueError(
                f"step {self.relation}/{self.direction} reaches {there}, not {self.node_type}"
            )
        return self.node_type


@dataclass(frozen=True, slots=True)
class MetaPath:
    """A named walk from a user to a product; ``types`` are the node types it visits."""

    name: str
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"meta-path {self.name!r} has no steps")
        if self.types[-1] != "product":
            raise ValueError(f"meta-path {self.name!r} ends at {self.types[-1]}, not product")

    @property
    def types(self) -> tuple[str, ...]:
        out = ["user"]
        for step in self.steps:
            out.append(step.reached_type(out[-1]))
        return tuple(out)

    @property
    def relations(self) -> tuple[str, ...]:
        return tuple(s.relation for s in self.steps)


def _mp(name: str, *steps: tuple[str, str] | tuple[str, str, str] | Step) -> MetaPath:
    return MetaPath(name, tuple(s if isinstance(s, Step) else Step(*s) for s in steps))


def catalogue(privacy: Privacy | None = None, *, described_like: bool = False
              ) -> tuple[MetaPath, ...]:
    """The meta-path catalogue under ``privacy`` (default :class:`Privacy`): no walk through
    another person's private acts (:mod:`recommend.paths.privacy`); co-interaction and
    segment evidence goes through the aggregate relations, over at least ``min_people``.
    ``described_like``: also ``bought/rated/liked>described_like``, a product of the user's
    and its nearest in catalogue text (:mod:`kg.described_like`); off by default, since on
    Amazon 2023 a graph component that walked them lifted the hybrid on a random test
    (NDCG@10 0.1702 -> 0.1723) but lowered it by time (0.2126 -> 0.1929)."""
    privacy = privacy or Privacy()
    k, demo = privacy.min_people, privacy.demographics
    out: list[MetaPath] = []
    product_links = ("co_bought", "also_bought", "bought_together", "also_viewed", "similar",
                     *(("described_like",) if described_like else ()))
    for inter, verb, agg in (("purchased", "bought", "co_purchased"),
                             ("rated", "rated", "co_rated"), ("liked", "liked", "co_liked")):
        first = Step(inter, "out", "product")
        for link in product_links:
            out.append(_mp(f"{verb}>{link}", first,
                           Step(link, min_people=k if link in COUNTED else 0)))
        out += [
            _mp(f"{verb}>same_category", first, ("in_category", "out"), ("in_category", "in")),
            _mp(f"{verb}>same_brand", first, ("made_by", "out"), ("made_by", "in")),
            _mp(f"{verb}>{agg}", first, Step(agg, min_people=k)),
        ]
    for act, verb in (("liked", "liked"), ("authored", "wrote")):
        post = (act, "out", "post")
        out += [
            _mp(f"{verb}_post>product", post, ("mentions", "out", "product")),
            _mp(f"{verb}_post>brand", post, ("mentions", "out", "brand"), ("made_by", "in")),
            _mp(f"{verb}_post>category", post, ("mentions", "out", "category"),
                ("in_category", "in")),
        ]
    kol = Step("follows", "out", "user", reweight="kol")
    segment = Step("member_of", "out", "segment", demographics=demo)
    out += [  # a followee is named for public acts only; private ones only as a count
        _mp("follows>liked", kol, ("liked", "out", "product")),
        _mp("follows>shared", kol, ("shared", "out", "product")),
        _mp("follows>commented", kol, ("commented", "out", "product")),
        _mp("follows>posted", kol, ("authored", "out", "post"), ("mentions", "out", "product")),
        _mp("followees>bought", Step("followees_bought", min_people=k)),
        _mp("followees>rated", Step("followees_rated", min_people=k)),
        _mp("interest>category", ("interested_in", "out", "category"), ("in_category", "in")),
        _mp("interest>brand", ("interested_in", "out", "brand"), ("made_by", "in")),
        _mp("interest>concept", ("interested_in", "out", "concept"), ("about", "in")),
        _mp("interest>image", ("interested_in", "out", "category"),
            ("depicts", "in", "image"), ("has_image", "in", "product")),
        _mp("segment>members_bought", segment,
            Step("members_bought", min_people=k, demographics=demo)),
        _mp("segment>members_rated", segment,
            Step("members_rated", min_people=k, demographics=demo)),
    ]
    return tuple(out)


#: The default catalogue (all at most 3 hops, so every path can be explained).
DEFAULT_METAPATHS: tuple[MetaPath, ...] = catalogue()


def _block_has_edges(graph: KnowledgeGraph, src_type: str, rel: str, dst_type: str) -> bool:
    if rel in AGGREGATES:  # computed from the interactions (and the user's follows)
        agg = AGGREGATES[rel]
        return (any(_block_has_edges(graph, "user", r, "product")
                    for r in interactions_of(agg.interaction))
                and (agg.src_type != "user" or _block_has_edges(graph, "user", "follows",
                                                                "user")))
    return any(c.src_type == src_type and c.dst_type == dst_type and len(c)
               for c in graph.edge_blocks(rel))


def available_metapaths(
    graph: KnowledgeGraph, metapaths: Iterable[MetaPath] | None = None, *,
    privacy: Privacy | None = None, described_like: bool = False,
) -> list[MetaPath]:
    """The meta-paths (:func:`catalogue` under ``privacy``, with ``described_like``, if None)
    whose every step has edges in ``graph``."""
    keep = []
    for mp in (catalogue(privacy, described_like=described_like) if metapaths is None
               else metapaths):
        types = mp.types
        ok = True
        for step, a, b in zip(mp.steps, types[:-1], types[1:], strict=True):
            src, dst = (a, b) if step.direction == "out" else (b, a)
            if not _block_has_edges(graph, src, step.relation, dst):
                ok = False
                break
        if ok:
            keep.append(mp)
    return keep


def raw_step_matrix(
    graph: KnowledgeGraph, step: Step, from_type: str, *, kol: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> sp.csr_matrix:
    """The step's (n ``from_type`` x n reached type) weighted adjacency, before normalisation;
    with ``rows`` (sorted, of a step followed ``"out"``), only those rows (the same values)."""
    to_type = step.reached_type(from_type)
    src, dst = (from_type, to_type) if step.direction == "out" else (to_type, from_type)
    if rows is not None and (step.direction != "out" or step.relation in COUNTED
                             or step.reweight is not None):
        raise ValueError(f"step {step.relation}/{step.direction}: rows only of an 'out' step "
                         "that is not counted or reweighted")
    if step.relation in AGGREGATES:
        m = aggregate_matrix(graph, step.relation, min_people=max(step.min_people, 1),
                             demographics=step.demographics, rows=rows)
    else:
        m = graph.matrix(step.relation, dst_type=dst, src_type=src)
        m = (m if rows is None else m[rows]).astype(np.float64)
        if step.relation in COUNTED and step.min_people > 0:
            m = counted(graph, step.relation, m, min_people=step.min_people)
        if step.relation == "member_of" and not step.demographics and graph.num_nodes(dst):
            m = m @ sp.diags((~demographic_segments(graph)).astype(np.float64))
    m = sp.csr_matrix(m if step.direction == "out" else m.T, dtype=np.float64)
    if step.reweight == "kol":
        if kol is None:
            from recommend.paths.social import kol_weights

            kol = kol_weights(graph).weights
        m = (m @ sp.diags(np.asarray(kol, np.float64))).tocsr()
    return m


def normalize_step(m: sp.csr_matrix, how: Normalize) -> sp.csr_matrix:
    """Degree-normalise one step's matrix (see the module docstring)."""
    if how == "none":
        return m.tocsr()
    rows = np.asarray(m.sum(axis=1)).ravel()
    if how == "row":
        inv = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)
        return (sp.diags(inv) @ m).tocsr()
    if how == "symmetric":
        cols = np.asarray(m.sum(axis=0)).ravel()
        r = np.divide(1.0, np.sqrt(rows), out=np.zeros_like(rows), where=rows > 0)
        c = np.divide(1.0, np.sqrt(cols), out=np.zeros_like(cols), where=cols > 0)
        return (sp.diags(r) @ m @ sp.diags(c)).tocsr()
    raise ValueError(f"normalize must be 'row', 'symmetric' or 'none', not {how!r}")


def step_matrices(
    graph: KnowledgeGraph,
    metapath: MetaPath,
    *,
    normalize: Normalize = "row",
    kol: np.ndarray | None = None,
) -> list[sp.csr_matrix]:
    """The normalised matrix of each step of ``metapath`` (their product is its score)."""
    types = metapath.types
    return [
        normalize_step(raw_step_matrix(graph, s, t, kol=kol), normalize)
        for s, t in zip(metapath.steps, types[:-1], strict=True)
    ]


def shared_steps(graph: KnowledgeGraph, metapaths: Sequence[MetaPath], normalize: Normalize,
                 kol: np.ndarray | None = None) -> dict[str, list[sp.csr_matrix]]:
    """Each meta-path's :func:`step_matrices` by name, a step that several take (the same
    :class:`Step` from the same node type: ``in_category`` followed in, the last step of
    every category meta-path) compiled once and shared, as
    :func:`recommend.paths.grow.grown_scorer` shares a grown one: the memos kept per
    matrix (its column views, its owners) then hold one entry for all of them."""
    made: dict[tuple[Step, str], sp.csr_matrix] = {}
    out = {}
    for mp in metapaths:
        mats = []
        for step, from_type in zip(mp.steps, mp.types[:-1], strict=True):
            key = (step, from_type)
            if key not in made:
                made[key] = normalize_step(raw_step_matrix(graph, step, from_type, kol=kol),
                                           normalize)
            mats.append(made[key])
        out[mp.name] = mats
    return out


def chain(rows: sp.csr_matrix, steps: Sequence[sp.csr_matrix]) -> sp.csr_matrix:
    """``rows @ steps[0] @ steps[1] ...`` left to right (cheap for a batch of users)."""
    return reduce(lambda a, b: (a @ b).tocsr(), steps, rows.tocsr())


def metapath_matrix(
    graph: KnowledgeGraph,
    metapath: MetaPath,
    *,
    normalize: Normalize = "row",
    users: np.ndarray | None = None,
    kol: np.ndarray | None = None,
) -> sp.csr_matrix:
    """(users x products) CSR of ``metapath`` scores (all users, or the given user indices)."""
    mats = step_matrices(graph, metapath, normalize=normalize, kol=kol)
    first = mats[0] if users is None else mats[0][np.asarray(users, np.int64)]
    return chain(first, mats[1:])
