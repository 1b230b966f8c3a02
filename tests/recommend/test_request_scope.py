"""A request's memo of the graph's kept tables (:mod:`recommend.paths.scope`): the same
answers as asking the graph, asked once per request, nothing kept after it."""

from __future__ import annotations

import threading

from kg.graph import KnowledgeGraph
from recommend.paths.privacy import demographic_ids, people
from recommend.paths.scope import kept, request_scope


def _graph() -> KnowledgeGraph:
    g = KnowledgeGraph()
    buyers = [f"user:{k}" for k in range(6)]
    g.add_edges("purchased", buyers + buyers, ["product:A"] * 6 + ["product:B"] * 6)
    return g


def test_answers_are_the_graphs_own() -> None:
    g = _graph()
    edge = ("product:A", "co_purchased", "product:B")
    outside = people(g, edge), demographic_ids(g)
    with request_scope():
        assert (people(g, edge), demographic_ids(g)) == outside == (6, frozenset())


def test_asked_once_per_scope_and_again_after_it() -> None:
    asked: list[int] = []
    g = object()

    def fetch() -> int:
        asked.append(1)
        return len(asked)

    with request_scope():
        assert [kept(g, "k", fetch) for _ in range(3)] == [1, 1, 1]
        with request_scope():  # an inner scope is the same scope
            assert kept(g, "k", fetch) == 1
    assert kept(g, "k", fetch) == 2 and kept(g, "k", fetch) == 3


def test_each_graph_and_thread_has_its_own() -> None:
    a, b = object(), object()
    seen: list[object] = []
    with request_scope():
        assert kept(a, "k", lambda: "a") == "a"
        assert kept(b, "k", lambda: "b") == "b"
        worker = threading.Thread(target=lambda: seen.append(kept(a, "k", lambda: "fresh")))
        worker.start()
        worker.join()
    assert seen == ["fresh"]


def test_a_graph_grown_between_requests_is_asked_again() -> None:
    g = _graph()
    edge = ("product:A", "co_purchased", "product:B")
    with request_scope():
        assert people(g, edge) == 6
    g.add_edges("purchased", ["user:9", "user:9"], ["product:A", "product:B"])
    with request_scope():
        assert people(g, edge) == 7
