"""The validation split: each user's latest interactions held out, and a graph without them.

Held out: for every user with at least ``min_user_items`` products reached through
``target_relations`` (purchases, carts, ratings), the latest ``ceil(fraction * n)`` of those
products by the time of the user's last such edge (ties and unknown times: a seeded random
order). Every user -> product edge of a held-out (user, product) pair, whatever its relation,
leaves the training graph, so that no view of a later purchase leaks into training. Edges
computed from interactions by the profile stage (``derived``: co-bought rules, interests,
segments) are recomputed on the training graph, or the held-out purchases would leak
through them. Node indices are the same in both graphs: scores over one are scores over
the other (segment nodes the recomputation creates come after the original ones).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from kg.schema import CLUSTER_SEGMENT_PREFIX, EVENT_RELATIONS, NODE_TYPES

#: Relations the profile stage computes from interactions (see :func:`rederive`).
DERIVED_RELATIONS: tuple[str, ...] = ("co_bought", "interested_in", "member_of")

#: The user -> product relations an event makes: what "seen" means.
PRODUCT_RELATIONS: tuple[str, ...] = tuple(EVENT_RELATIONS.values())


def relation_matrix(graph: KnowledgeGraph, relations: Sequence[str]) -> sp.csr_matrix:
    """(users x products) sum of the weights of ``relations`` (those with user -> product edges)."""
    shape = (graph.num_nodes("user"), graph.num_nodes("product"))
    out = sp.csr_matrix(shape, dtype=np.float64)
    for rel in relations:
        if any(c.src_type == "user" and c.dst_type == "product" and len(c)
               for c in graph.edge_blocks(rel)):
            out = out + graph.matrix(rel, dst_type="product", src_type="user")
    out = sp.csr_matrix(out)
    out.eliminate_zeros()
    return out


def seen_matrix(graph: KnowledgeGraph) -> sp.csr_matrix:
    """(users x products) 0/1: the user has any event on the product."""
    m = relation_matrix(graph, PRODUCT_RELATIONS)
    m.data[:] = 1.0
    return m


@dataclass(frozen=True)
class ValidationSplit:
    """The training graph and the held-out (users x products) 0/1 matrix."""

    train_graph: KnowledgeGraph
    relevant: sp.csr_matrix

    @property
    def users(self) -> np.ndarray:
        """Indices of the users with something held out."""
        return np.flatnonzero(np.diff(self.relevant.indptr))


def latest_times(graph: KnowledgeGraph, relations: Sequence[str]) -> sp.coo_matrix:
    """(users x products) latest ts of the target edges (NaN -> -inf kept as a stored value)."""
    shape = (graph.num_nodes("user"), graph.num_nodes("product"))
    src, dst, ts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for rel in relations:
        for c in graph.edge_blocks(rel):
            if c.src_type == "user" and c.dst_type == "product":
                src.append(c.src)
                dst.append(c.dst)
                ts.append(np.nan_to_num(c.ts, nan=-1e300))
    s, d, t = np.concatenate(src), np.concatenate(dst), np.concatenate(ts)
    key = s * shape[1] + d
    order = np.lexsort((t, key))  # by pair, latest last
    last = np.append(key[order][1:] != key[order][:-1], True)[: len(key)]  # none if no edges
    pick = order[last]
    return sp.coo_matrix((t[pick], (s[pick], d[pick])), shape=shape)


def validation_split(
    graph: KnowledgeGraph,
    *,
    target_relations: Sequence[str],
    fraction: float = 0.2,
    min_user_items: int = 3,
    seed: int = 0,
    derived: Sequence[str] = DERIVED_RELATIONS,
) -> ValidationSplit:
    """Hold out each user's latest target products (module docstring)."""
    latest = latest_times(graph, target_relations)
    rng = np.random.default_rng(seed)
    tie = rng.random(latest.nnz)
    order = np.lexsort((tie, latest.data, latest.row))  # by user, then time
    rows, cols = latest.row[order], latest.col[order]
    counts = np.bincount(rows, minlength=latest.shape[0])
    ends = np.cumsum(counts)
    n_out = np.array([math.ceil(round(c * fraction, 9)) if c >= min_user_items else 0
                      for c in counts])
    pos = np.arange(len(rows)) - np.repeat(ends - counts, counts)
    held = pos >= (counts - n_out)[rows]
    relevant = sp.csr_matrix(
        (np.ones(int(held.sum())), (rows[held], cols[held])), shape=latest.shape
    )
    n_products = graph.num_nodes("product")
    codes = rows[held].astype(np.int64) * n_products + cols[held]
    present = tuple(r for r in derived if graph.num_edges(r))
    train = graph_without_pairs(graph, codes, drop_relations=present)
    if present:
        rederive(train, present, seed=seed)
    return ValidationSplit(train, relevant)


def rederive(graph: KnowledgeGraph, relations: Sequence[str], *, seed: int = 0) -> None:
    """Recompute the profile stage's ``relations`` (of :data:`DERIVED_RELATIONS`) on ``graph``.

    Same recipe as :func:`recommend.profiles.enrich_graph` without embeddings: interests and
    segments from the user profiles, ``co_bought`` from the purchase baskets' rules.
    """
    from recommend.profiles import (
        add_to_graph,
        build_profiles,
        co_bought_edges,
        graph_baskets_rules,
        inputs_from_graph,
        interest_edges,
        membership_edges,
        segment_users,
    )

    lists = []
    if "interested_in" in relations or "member_of" in relations:
        table = build_profiles(inputs_from_graph(graph))
        if "interested_in" in relations:
            lists.append(interest_edges(table))
        if "member_of" in relations:
            seg = segment_users(table, use_embeddings=False, seed=seed)
            for s in seg.segments:
                graph.add_node(s.node_id, size=s.size,
                               top_features=[f.name for f in s.top_features])
            lists.append(membership_edges(table, seg))
    if "co_bought" in relations:
        lists.append(co_bought_edges(graph_baskets_rules(graph)))
    add_to_graph(graph, lists)


def graph_without_pairs(graph: KnowledgeGraph, pair_codes: np.ndarray, *,
                        drop_relations: Sequence[str] = ()) -> KnowledgeGraph:
    """A copy of ``graph`` without the user -> product edges of the given pairs.

    ``pair_codes`` are ``user_index * n_products + product_index``; the profile stage's
    edges of ``drop_relations`` are left out too (of ``member_of``, those to cluster
    segments: the build's demographic segments are knowledge and stay). Nodes keep their
    indices.
    """
    out = KnowledgeGraph()
    for node_type in NODE_TYPES:
        for node_id in graph.nodes(node_type):
            out.add_node(node_id, **graph.node_attrs(node_id))
    ids = {t: np.asarray(graph.nodes(t), dtype=object) for t in NODE_TYPES}
    n_products = graph.num_nodes("product")
    codes = np.unique(np.asarray(pair_codes, np.int64))
    for c in graph.edge_blocks():
        keep = np.ones(len(c), bool)
        if c.relation == "member_of" and c.relation in drop_relations:
            segments = ids[c.dst_type][c.dst].astype(str)
            keep = ~np.char.startswith(segments, CLUSTER_SEGMENT_PREFIX)
        elif c.relation in drop_relations:
            continue
        if c.src_type == "user" and c.dst_type == "product" and codes.size:
            keep &= ~np.isin(c.src.astype(np.int64) * n_products + c.dst, codes)
        if not keep.any():
            continue
        out.add_edges(
            c.relation,
            ids[c.src_type][c.src[keep]].tolist(),
            ids[c.dst_type][c.dst[keep]].tolist(),
            c.weight[keep],
            c.ts[keep],
            **{k: v[keep] for k, v in c.columns.items()},
        )
    return out
