"""The per-block adjacency index: neighbours, has_edge and links equal a plain scan."""

from __future__ import annotations

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from kg.links import LinkFinder

RELATIONS = [("purchased", "user", "product"), ("viewed", "user", "product"),
             ("follows", "user", "user"), ("in_category", "product", "category"),
             ("co_bought", "product", "product")]


def random_graph(seed: int, n_edges: int = 300) -> KnowledgeGraph:
    """Random typed edges added in several batches (so blocks have buffered chunks)."""
    rng = np.random.default_rng(seed)
    sizes = {"user": 25, "product": 30, "category": 4}
    g = KnowledgeGraph()
    for _ in range(4):
        for rel, s, d in RELATIONS:
            n = int(rng.integers(0, n_edges // 20))
            g.add_edges(rel, [f"{s}:{x}" for x in rng.integers(0, sizes[s], n)],
                        [f"{d}:{x}" for x in rng.integers(0, sizes[d], n)],
                        weight=rng.random(n).round(3), ts=rng.choice([np.nan, 5.0, 9.0], n))
    return g


def scanned(g: KnowledgeGraph, node: str, rel: str | None, direction: str) -> list:
    """What neighbors() must return, from a scan of every edge (block and insertion order)."""
    end = "src" if direction == "out" else "dst"
    return [e for e in g.edges() if getattr(e, end) == node and rel in (None, e.relation)]


def edge_key(e) -> tuple:
    return (e.src, e.relation, e.dst, e.weight, e.ts, tuple(sorted(e.columns.items())))


@pytest.mark.parametrize("seed", range(6))
def test_neighbors_through_the_index_equal_a_scan_of_all_edges(seed: int) -> None:
    g = random_graph(seed)
    nodes = g.nodes("user") + g.nodes("product") + g.nodes("category")
    for node in nodes:
        for rel in (None, "purchased", "follows", "in_category"):
            for direction in ("out", "in"):
                got = g.neighbors(node, rel, direction)
                assert [edge_key(e) for e in got] == \
                    [edge_key(e) for e in scanned(g, node, rel, direction)]
                arrays = g.neighbor_indices(node, rel, direction)
                assert sum(len(nb) for nb in arrays) == len(got)
                ids = [g.node_id(nb.node_type, int(j)) for nb in arrays for j in nb.indices]
                assert ids == [e.dst if direction == "out" else e.src for e in got]


@pytest.mark.parametrize("seed", range(3))
def test_has_edge_agrees_with_the_edge_list(seed: int) -> None:
    g = random_graph(seed)
    present = {(e.src, e.relation, e.dst) for e in g.edges()}
    rng = np.random.default_rng(seed)
    for rel, s, d in RELATIONS:
        for _ in range(150):
            src, dst = f"{s}:{rng.integers(0, 32)}", f"{d}:{rng.integers(0, 32)}"
            assert g.has_edge(src, rel, dst) == ((src, rel, dst) in present)


def test_the_index_follows_added_edges_and_nodes() -> None:
    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:1", "user:2"], ["product:A", "product:A"], ts=[1.0, None])
    assert [e.src for e in g.neighbors("product:A", direction="in")] == ["user:1", "user:2"]
    assert g.neighbors("user:1", "purchased")[0].ts == 1.0
    assert g.neighbors("user:2", "purchased")[0].ts is None
    # new edges (also from a node created after the index was built) appear at once
    g.add_edges("purchased", ["user:3", "user:1"], ["product:A", "product:B"], weight=2.0)
    assert [e.src for e in g.neighbors("product:A", direction="in")] == \
        ["user:1", "user:2", "user:3"]
    assert [(e.dst, e.weight) for e in g.neighbors("user:1")] == \
        [("product:A", 1.0), ("product:B", 2.0)]
    assert g.has_edge("user:3", "purchased", "product:A")
    # a node without edges of a block that was indexed before it existed
    g.add_node("user:4", name="Dee")
    assert g.neighbors("user:4") == [] and not g.has_edge("user:4", "purchased", "product:A")
    assert g.neighbor_indices("user:4") == []
    # a new block for an old node type
    g.add_edges("viewed", ["user:4"], ["product:A"])
    assert [e.relation for e in g.neighbors("user:4")] == ["viewed"]
    assert [e.relation for e in g.neighbors("product:A", direction="in")] == \
        ["purchased"] * 3 + ["viewed"]


def test_described_and_id_ranks_follow_new_nodes() -> None:
    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:b"], ["product:A"])
    assert g.described("user").tolist() == [False]
    g.add_node("user:b", name="Bo")
    g.add_node("user:a")
    assert g.described("user").tolist() == [True, False]
    assert g.id_ranks("user").tolist() == [1, 0]
    g.add_node("user:10")
    assert [g.raw_ids("user")[j] for j in np.argsort(g.id_ranks("user"))] == ["10", "a", "b"]


def test_neighbors_reject_a_bad_direction_and_name_a_missing_node() -> None:
    g = random_graph(0)
    with pytest.raises(ValueError, match="direction"):
        g.neighbors("user:1", direction="both")  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="user:999"):
        g.neighbor_indices("user:999")


def set_link(g: KnowledgeGraph, u: str, i: str, max_expand: int = 500) -> tuple | None:
    """The reference link: sets of typed ids from neighbors(), smallest id first."""
    def around(node: str) -> dict[str, tuple[str, str, str]]:
        out: dict[str, tuple[str, str, str]] = {}
        for direction in ("out", "in"):
            for e in g.neighbors(node, direction=direction):
                out.setdefault(e.dst if direction == "out" else e.src, (e.src, e.relation, e.dst))
        return out

    near_u, near_i = around(u), around(i)
    if i in near_u:
        return (u, i), (near_u[i],)
    common = sorted(set(near_u) & set(near_i) - {u, i})
    if common:
        return (u, common[0], i), (near_u[common[0]], near_i[common[0]])
    for x in sorted(near_u)[:max_expand]:
        near_x = around(x)
        hit = sorted(set(near_x) & set(near_i) - {u, i, x})
        if x != i and hit:
            return (u, x, hit[0], i), (near_u[x], near_x[hit[0]], near_i[hit[0]])
    return None


@pytest.mark.parametrize("seed", range(4))
def test_links_equal_a_set_based_search_and_use_stored_edges(seed: int) -> None:
    g = random_graph(seed, n_edges=120)
    rng = np.random.default_rng(seed)
    users, products = g.nodes("user"), g.nodes("product")
    found = 0
    for u in rng.choice(users, 8, replace=False):
        finder = LinkFinder(g, str(u), max_expand=6)
        for i in products:
            link = finder.link(i)
            want = set_link(g, str(u), i, max_expand=6)
            assert (None if link is None else (link.nodes, link.edges)) == want
            if link is not None:
                found += 1
                assert all(g.has_edge(*e) for e in link.edges)
                assert all({e[0], e[2]} == {a, b} for e, a, b in
                           zip(link.edges, link.nodes[:-1], link.nodes[1:], strict=True))
    assert found > 0


def test_a_link_starts_with_the_sources_strongest_relation_to_a_product() -> None:
    g = KnowledgeGraph()
    g.add_edges("viewed", ["user:1", "user:1"], ["product:A", "post:q"])  # the first blocks
    g.add_edges("purchased", ["user:1"], ["product:A"])
    g.add_edges("authored", ["user:1"], ["post:q"])
    g.add_edges("in_category", ["product:A", "product:B"], ["category:c", "category:c"])
    g.add_edges("mentions", ["post:q"], ["product:C"])
    finder = LinkFinder(g, "user:1")
    assert finder.link("product:A").edges == (("user:1", "purchased", "product:A"),)
    assert finder.link("product:B").edges[0] == ("user:1", "purchased", "product:A")
    # to a post, block order as before (no product relation ranks it)
    assert finder.link("product:C").edges[0] == ("user:1", "viewed", "post:q")
