"""kg.held: what a graph already holds, so that records sent again merge."""

from __future__ import annotations

from kg.build import build_graph
from kg.held import GraphHeld, known_ids
from kg.reader import read_buffers
from kg.records import Dataset, Event, Follow, Product, User


def graph():
    return build_graph(Dataset(products=[Product("A", "Tea")], users=[User("1"), User("2")],
                               follows=[Follow("1", "2", ts=1.6e9 + 5)],
                               events=[Event("1", "A", "product", "rate", value=4.0, ts=1.6e9 + 9),
                                       Event("2", "A", "product", "view")]), progress=False)


def test_events_are_held_by_user_target_kind_time_and_weight() -> None:
    held = GraphHeld(graph())
    assert held.holds_event(Event("1", "A", "product", "rate", value=4.0, ts=1.6e9 + 9))
    assert held.holds_event(Event("2", "A", "product", "view"))
    assert held.holds_event(Event("2", "A", "product", "view", text="nice"))  # text: not kept
    assert not held.holds_event(Event("1", "A", "product", "rate", value=3.0, ts=1.6e9 + 9))
    assert not held.holds_event(Event("1", "A", "product", "rate", value=4.0, ts=1.6e9 + 8))
    assert not held.holds_event(Event("1", "A", "product", "view", ts=1.6e9 + 9))
    assert not held.holds_event(Event("2", "A", "product", "view", ts=1.6e9 + 1))
    assert not held.holds_event(Event("9", "A", "product", "view"))


def test_reading_against_a_graph_merges_what_it_holds() -> None:
    lines = {"follows.jsonl": b'{"follower":"1","followee":"2","ts":1600000005}\n'
                              b'{"follower":"2","followee":"1"}\n',
             "events.jsonl": b'{"user":"1","target":"A","kind":"rate","value":4,"ts":1600000009}\n'
                             b'{"user":"2","target":"A","kind":"view"}\n'
                             b'{"user":"2","target":"A","kind":"view","ts":1600000003}\n'}
    result = read_buffers(lines, known=known_ids(graph()))
    assert [(f.follower, f.followee) for f in result.dataset.follows] == [("2", "1")]
    assert [e.ts for e in result.dataset.events] == [1600000003.0]
    assert result.counts["events.jsonl"].merged == 2 and result.counts["follows.jsonl"].merged == 1
    conflict = read_buffers({"follows.jsonl": b'{"follower":"1","followee":"2","ts":1600000006}\n'},
                            known=known_ids(graph()), label="add():")
    assert conflict.rejections[0].file == "add():follows.jsonl"
    assert "conflicting duplicate of the existing graph" in conflict.rejections[0].reason


def test_products_and_users_sent_again_merge_and_differing_ones_conflict() -> None:
    g = build_graph(Dataset(products=[Product("A", "Tea", brand="Leafy", categories=("F", "T"),
                                              price=2.5, attributes={"x": 1})],
                            users=[User("1", age=30, attributes={"occupation": "cook"})],
                            posts=[]), progress=False)
    lines = {"products.jsonl": b'{"id":"A","title":"Tea","brand":"Leafy","categories":["F","T"],'
                               b'"price":2.5,"attributes":{"x":1}}\n'
                               b'{"id":"A","title":"Green tea"}\n',
             "users.jsonl": b'{"id":"1","age":30,"attributes":{"occupation":"cook"}}\n'
                            b'{"id":"1"}\n'}
    result = read_buffers(lines, known=known_ids(g))
    assert result.counts["products.jsonl"].merged == 1 and result.counts["users.jsonl"].merged == 1
    assert [(r.file, r.line) for r in result.rejections] == [("products.jsonl", 2),
                                                             ("users.jsonl", 2)]
    assert all("conflicting duplicate of the existing graph" in r.reason
               for r in result.rejections)
