"""KnowledgeGraph.fork: grow a copy while the original is read; the original never changes."""

from __future__ import annotations

import numpy as np

from kg.build import build_graph
from kg.records import Dataset, Event, Follow, Product, User


def small() -> Dataset:
    return Dataset(products=[Product("A", "Tea", brand="Leafy", categories=("Food", "Tea")),
                             Product("B", "Mug")],
                   users=[User("1", age=30), User("2")],
                   follows=[Follow("1", "2", ts=5.0)],
                   events=[Event("1", "A", "product", "purchase", ts=5.0),
                           Event("2", "B", "product", "view")])


def test_growing_a_fork_leaves_the_original_as_it_was() -> None:
    graph = build_graph(small(), progress=False)
    graph.consolidate()
    matrix = graph.matrix("purchased", "product").toarray()
    adjacency = next(graph.edge_blocks("viewed"))
    twin = build_graph(small(), progress=False)
    fork = graph.fork()
    fork.add_records(Dataset(products=[Product("C", "Pot", brand="Clay")],
                             users=[User("3")],
                             events=[Event("3", "C", "product", "purchase", ts=6.0),
                                     Event("1", "B", "product", "purchase", ts=7.0)]))
    fork.add_node("product:A", price=3.0)
    assert graph == twin and fork != twin
    assert graph.num_nodes("product") == 2 and fork.num_nodes("product") == 3
    assert "price" not in graph.node_attrs("product:A") and fork.node_attrs("product:A")["price"]
    assert np.array_equal(graph.matrix("purchased", "product").toarray(), matrix)
    assert fork.matrix("purchased", "product").shape == (3, 3)
    assert fork.has_edge("user:1", "purchased", "product:B")
    assert not graph.has_edge("user:1", "purchased", "product:B")
    assert len(next(graph.edge_blocks("viewed"))) == len(adjacency)
    assert graph.described("product").tolist() == [True, True]
    assert fork.described("product").tolist() == [True, True, True]


def test_a_fork_shares_the_edge_columns() -> None:
    graph = build_graph(small(), progress=False)
    graph.consolidate()
    fork = graph.fork()
    mine, theirs = next(graph.edge_blocks("follows")), next(fork.edge_blocks("follows"))
    assert mine.src is theirs.src and mine.ts is theirs.ts


def test_the_version_counts_every_block_append_in_the_graph_and_its_fork() -> None:
    graph = build_graph(small(), progress=False)

    def appends(g) -> int:  # what the version's edge part used to sum on every call
        return sum(b.version for b in g._blocks.values())

    before = graph.version
    assert before[2] == appends(graph)
    fork = graph.fork()
    fork.add_records(Dataset(events=[Event("1", "B", "product", "purchase", ts=7.0)]))
    assert fork.version[2] == appends(fork) > before[2]
    assert graph.version == before  # the original's version is untouched


def test_each_relation_counts_its_blocks_appends_in_the_graph_and_its_fork() -> None:
    graph = build_graph(small(), progress=False)

    def appends(g, relation: str) -> int:  # what cached_for's stamp used to read per call
        return sum(b.version for k, b in g._blocks.items() if k[1] == relation)

    before = dict(graph._relation_versions)
    assert before == {r: appends(graph, r) for r in before}
    fork = graph.fork()
    fork.add_records(Dataset(events=[Event("1", "B", "product", "purchase", ts=7.0)]))
    assert fork._relation_versions == {r: appends(fork, r) for r in fork._relation_versions}
    assert fork._relation_versions["purchased"] > before["purchased"]
    assert graph._relation_versions == before  # the original's counts are untouched


def test_a_cache_for_a_relation_sees_a_new_block_of_it() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:a"], ["product:p"])
    calls = []
    assert g.cached_for("k", ("purchased", "viewed"), lambda: calls.append(1) or len(calls)) == 1
    g.add_edges("viewed", ["user:a"], ["product:q"])  # the relation's first block
    assert g.cached_for("k", ("purchased", "viewed"), lambda: calls.append(1) or len(calls)) == 2
    assert g.cached_for("k", ("purchased", "viewed"), lambda: calls.append(1) or len(calls)) == 2


def test_the_latest_edge_time_is_kept_as_edges_are_appended() -> None:
    from kg.graph import KnowledgeGraph

    g = KnowledgeGraph()
    assert g.latest_time() is None
    g.add_edges("viewed", ["user:a", "user:b"], ["product:p", "product:q"], ts=[None, -1e300])
    assert g.latest_time() is None  # unknown times only
    g.add_edges("viewed", ["user:a", "user:b"], ["product:p", "product:q"], ts=[5.0, 3.0])
    fork = g.fork()
    fork.add_edges("purchased", ["user:a"], ["product:q"], ts=[9.0])
    fork.add_edges("viewed", ["user:a"], ["product:q"], ts=[7.0])
    assert (g.latest_time(), fork.latest_time()) == (5.0, 9.0)


def test_a_fork_copies_a_node_table_only_when_it_adds_to_it() -> None:
    """Copy on write: a fork that adds edges only shares the node tables (no O(nodes) copy
    per add, and the described masks and id ranks stay valid); adding a node or an attribute
    copies that type's tables in the store that adds, and the other store sees nothing."""
    graph = build_graph(small(), progress=False)
    graph.consolidate()
    mask, ranks = graph.described("product"), graph.id_ranks("user")
    users = graph.described("user").tolist()
    fork = graph.fork()
    fork.add_records(Dataset(events=[Event("2", "A", "product", "purchase", ts=9.0)]))
    assert fork.raw_ids("user") is graph.raw_ids("user")
    assert fork._attrs["product"] is graph._attrs["product"]
    assert fork._described["product"] is graph._described["product"]  # kept, not recomputed
    assert fork.described("product").tolist() == mask.tolist()
    assert fork.id_ranks("user") is ranks
    fork.add_node("product:A", price=2.0)  # an attribute: the fork's own product tables
    assert fork._attrs["product"] is not graph._attrs["product"]
    assert "price" not in graph.node_attrs("product:A")
    assert fork.raw_ids("user") is graph.raw_ids("user")  # another type stays shared
    second = fork.fork()
    second.add_node("user:9")
    assert second.num_nodes("user") == 3 and fork.num_nodes("user") == graph.num_nodes("user") == 2
    assert not fork.has_node("user:9") and not graph.has_node("user:9")
    graph.add_node("user:7")  # the store forked from copies too before it changes
    assert not fork.has_node("user:7") and not second.has_node("user:7")
    assert graph.raw_ids("user") == ["1", "2", "7"] and second.raw_ids("user") == ["1", "2", "9"]
    assert graph.described("user").tolist() == [*users, False]
