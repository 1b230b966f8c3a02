"""A private connection (``user -did-> A -co_did(n people)-> item``) finds the item's doers
from the relation matrices' columns: the same answer as reading the item's incoming edges
one by one, on random small worlds (repeated edges, weight-0 edges, several event kinds),
and the hop it shows is over as many people as :func:`people` counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.graph import KnowledgeGraph
from recommend.paths.connection import aggregate_link
from recommend.paths.privacy import AGGREGATES, ENGAGED, LINK_AGGREGATES, people

RELATIONS = ("viewed", "clicked", "liked", "carted", "purchased", "rated")


def by_edges(graph: KnowledgeGraph, user: str, item: str, *, min_people: int):
    """The reference: each relation's doers of ``item`` read from its incoming edges (a
    weight-0 edge is no act, as in :func:`recommend.paths.privacy.people`, which counts the
    hop this connection shows)."""
    if not (graph.has_node(user) and graph.has_node(item)):
        return None
    u, i = graph.index(user), graph.index(item)
    mats = {r: graph.matrix(r, dst_type="product", src_type="user")
            for r in RELATIONS if graph.num_edges(r)}
    for name in LINK_AGGREGATES:
        interaction = AGGREGATES[name].interaction
        rels = [r for r in mats if interaction in (ENGAGED, r)]
        if not rels:
            continue
        mine = np.unique(np.concatenate([mats[r][u].indices for r in rels]))
        mine = mine[mine != i]
        who = sorted({graph.index(e.src) for e in graph.neighbors(item, direction="in")
                      if e.relation in rels and e.src.startswith("user:") and e.weight})
        if len(mine) == 0 or len(who) < min_people:
            continue
        rows = np.array(who)
        both = sum((mats[r][rows][:, mine] for r in rels[1:]), mats[rels[0]][rows][:, mine])
        shared = np.asarray((both != 0).sum(axis=0)).ravel()
        best = int(np.argmax(shared))
        if shared[best] >= min_people:
            a = graph.node_id("product", int(mine[best]))
            first = next(e for e in graph.neighbors(user) if e.dst == a and e.relation in rels)
            return (user, a, item), ((user, first.relation, a), (a, name, item))
    return None


edge = st.tuples(st.integers(0, 11), st.sampled_from(RELATIONS), st.integers(0, 5),
                 st.sampled_from([0.0, 1.0, 2.5]))


@given(edges=st.lists(edge, min_size=1, max_size=120), min_people=st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_doers_by_column_match_doers_by_edge(edges, min_people) -> None:
    g = KnowledgeGraph()
    for p in range(6):
        g.add_node(f"product:p{p}", title=f"Item {p}")
    for rel in RELATIONS:
        mine = [(u, p, w) for u, r, p, w in edges if r == rel]
        if mine:
            g.add_edges(rel, [f"user:u{u}" for u, _, _ in mine],
                        [f"product:p{p}" for _, p, _ in mine], weight=[w for *_, w in mine])
    for u in range(12):
        for p in range(6):
            user, item = f"user:u{u}", f"product:p{p}"
            found = aggregate_link(g, user, item, min_people=min_people)
            assert found == by_edges(g, user, item, min_people=min_people)
            if found is not None:
                assert people(g, found[1][1]) >= min_people
