"""A networkx view of the knowledge graph: the graph people look at, walk and draw.

Nodes are typed ids carrying their attributes plus ``type``; each edge (auto integer key)
relation and carries ``relation``, ``weight``, ``ts`` (omitted when unknown) and any extra
columns. Parallel edges (a user viewing a product twice) stay separate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import networkx

    from kg.graph import KnowledgeGraph


def to_networkx(graph: KnowledgeGraph, nodes: Iterable[str] | None = None) -> networkx.MultiDiGraph:
    """The whole graph, or the subgraph induced by ``nodes`` (typed ids; unknown ones raise).

    >>> from kg.graph import KnowledgeGraph
    >>> g = KnowledgeGraph()
    >>> g.add_edges("follows", ["user:1", "user:2"], ["user:2", "user:3"])
    >>> sorted(to_networkx(g, ["user:1", "user:2"]).edges())
    [('user:1', 'user:2')]
    """
    import networkx as nx

    out = nx.MultiDiGraph()
    keep: dict[str, np.ndarray] | None = None
    if nodes is None:
        for node_type in graph.summary().nodes:
            for node_id in graph.nodes(node_type):
                out.add_node(node_id, type=node_type, **graph.node_attrs(node_id))
    else:
        wanted = list(dict.fromkeys(nodes))
        keep = {}
        for node_id in wanted:
            node_type = node_id.partition(":")[0]
            i = graph.index(node_id)
            out.add_node(node_id, type=node_type, **graph.node_attrs(node_id))
            keep.setdefault(node_type, np.zeros(graph.num_nodes(node_type), bool))[i] = True
    for c in graph.edge_blocks():
        if keep is None:
            positions = np.arange(len(c))
        else:
            if c.src_type not in keep or c.dst_type not in keep:
                continue
            positions = np.flatnonzero(keep[c.src_type][c.src] & keep[c.dst_type][c.dst])
        src_ids, dst_ids = graph.raw_ids(c.src_type), graph.raw_ids(c.dst_type)
        for p in positions:
            attrs = {"relation": c.relation, "weight": float(c.weight[p])}
            if not np.isnan(c.ts[p]):
                attrs["ts"] = float(c.ts[p])
            attrs.update({k: float(v[p]) for k, v in c.columns.items()})
            out.add_edge(
                f"{c.src_type}:{src_ids[c.src[p]]}",
                f"{c.dst_type}:{dst_ids[c.dst[p]]}",
                key=None,
                **attrs,
            )
    return out
