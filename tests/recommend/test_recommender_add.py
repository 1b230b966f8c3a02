"""Recommender.add: the files' validation, all-or-valid application, idempotent repeats and
a state swapped whole while other threads recommend (recommend.updates, recommend.snapshot)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from kg.records import Dataset, Event, Follow, Post, Product, User
from recommend import Recommender
from recommend.hybrid.components import PopularityComponent

#: Event times for records added now: inside the accepted window (1990 to now + 1 day).
NOW = time.time() - 3600.0


@pytest.fixture
def rec(small_demo_artifact: Path) -> Recommender:
    return Recommender.load(small_demo_artifact)


def raw(node_id: str) -> str:
    return node_id.partition(":")[2]


def answers(rec: Recommender, users: list[str]) -> dict[str, list[dict]]:
    return {u: [r.to_json() for r in rec.recommend(u, k=5)] for u in users}


def some_users(rec: Recommender, n: int = 12) -> list[str]:
    return [*rec.graph.nodes("user")[:n], "newcomer"]


def batches(rec: Recommender) -> list[list]:
    """Three adds touching histories, the catalogue and the social graph."""
    users = [raw(u) for u in rec.graph.nodes("user")]
    products = [raw(p) for p in rec.graph.nodes("product")]
    return [
        [Event(users[k], products[(7 * k) % len(products)], "product", "purchase",
               ts=NOW + k) for k in range(12)],
        [Product("p-new", "Stoneware Tea Mug", brand="Hearthstone",
                 categories=("Home", "Kitchen", "Mugs"), price=15.0),
         User("newcomer"), Follow("newcomer", users[0], ts=NOW),
         *[Event(users[k], "p-new", "product", "cart", ts=NOW + 20) for k in range(5)]],
        [Event(users[k], products[(3 * k + 1) % len(products)], "product", "rate",
               value=5.0, ts=NOW + 30) for k in range(12)],
    ]


# ----- validation: exactly the files' checks, rejections never exceptions -----

@pytest.mark.parametrize(("record", "reason"), [
    (Event("U", "P", "product", "buy"), '"kind": expected one of'),  # type: ignore[arg-type]
    (Event("U", "P", "product", "view", ts="yesterday"),  # type: ignore[arg-type]
     '"ts": expected unix seconds or an ISO 8601 date, got string "yesterday"'),
    (Event("U", "P", "product", "rate", value="abc"),  # type: ignore[arg-type]
     '"value": expected a number, got string "abc"'),
    (Event("U", "P", "product", "rate"), '"value": a "rate" event needs a finite number'),
    (Event("U", "P", "product", "view", ts=float("nan")), '"ts": expected unix seconds'),
    (Event("U", "P", "shop", "view"), '"target_type": expected "product" or "post"'),  # type: ignore[arg-type]
    (Event("U", "ghost", "product", "view"), 'unknown product "ghost"'),
    (Product("pz", ""), '"title": must not be empty or blank'),
    (Product("pz", "Z", price=-1.0), '"price": must be at least 0'),
    (Product("pz", "Z", price="9"), '"price": expected a number, got string "9"'),  # type: ignore[arg-type]
    (Product("pz", "Z", attributes={"tags": {"a"}}), "expected a JSON value, got a Python set"),  # type: ignore[dict-item]
    (Product(" pz", "Z"), "starts or ends with whitespace"),
    (Product("pz", "bad \ud800 text"), "unpaired \\u surrogate"),
    (User("u-new", age=400), '"age": integer 400 is outside 0..150'),
    (Follow("U", "U"), "self-follow"),
    (Post("post-new", "U", ts=True), '"ts": expected unix seconds'),  # type: ignore[arg-type]
])
def test_wrong_records_are_rejected_with_the_files_reasons(rec, record, reason) -> None:
    user, product = raw(rec.graph.nodes("user")[0]), raw(rec.graph.nodes("product")[0])
    record = type(record)(**{f: (user if v == "U" else product if v == "P" else v)
                             for f, v in _fields(record).items()})
    before = rec.graph.summary()
    result = rec.add([record])
    assert result.accepted == 0 and len(result.rejected) == 1 and not result.updated
    rejection = result.rejected[0]
    assert reason in rejection.reason
    assert rejection.file.startswith("add():") and rejection.line == 1
    assert rec.graph.summary() == before


def _fields(record) -> dict:
    return {f: getattr(record, f) for f in record.__dataclass_fields__}


def test_a_non_record_is_rejected_and_a_lone_record_is_a_type_error(rec) -> None:
    result = rec.add([{"id": "x"}, User("fine")])
    assert result.accepted == 1
    assert result.rejected[0].file == "add()" and result.rejected[0].line == 1
    assert "not a shopgraph record: a dict" in result.rejected[0].reason
    with pytest.raises(TypeError, match="iterable of records"):
        rec.add(User("alone"))  # type: ignore[arg-type]


def test_line_numbers_count_records_of_one_file_in_order(rec) -> None:
    user = raw(rec.graph.nodes("user")[0])
    result = rec.add([Product("a1", "A"), Event(user, "a1", "product", "view", ts=NOW),
                      Product("a2", ""), Event(user, "a1", "product", "buy"),  # type: ignore[arg-type]
                      Product("a1", "A, again but different")])
    assert [(r.file, r.line) for r in result.rejected] == [
        ("add():products.jsonl", 2), ("add():products.jsonl", 3), ("add():events.jsonl", 2)]
    assert "conflicting duplicate of add():products.jsonl line 1" in result.rejected[1].reason
    assert result.accepted == 2  # an event may refer to a product given after it


def test_a_dataset_is_taken_like_a_list(rec) -> None:
    result = rec.add(Dataset(products=[Product("d1", "Dee")], users=[User("d-user")],
                             events=[Event("d-user", "d1", "product", "view", ts=NOW)]))
    assert result.accepted == 3 and not result.rejected
    assert rec.graph.has_edge("user:d-user", "viewed", "product:d1")


# ----- all valid records, or none; a failure applies nothing -----

def test_valid_records_apply_and_atomic_applies_none_if_one_is_rejected(rec) -> None:
    user = raw(rec.graph.nodes("user")[0])
    users = some_users(rec)
    before = answers(rec, users)
    records = [Product("pz", "Z"), Event(user, "pz", "product", "rate", value="abc")]  # type: ignore[arg-type]
    none = rec.add(records, atomic=True)
    assert none.accepted == 0 and len(none.rejected) == 1
    assert not rec.graph.has_node("product:pz") and answers(rec, users) == before
    some = rec.add(records)
    assert some.accepted == 1 and len(some.rejected) == 1 and rec.graph.has_node("product:pz")
    for u in rec.graph.nodes("user")[:40]:  # every user is still served
        assert rec.recommend(u, k=3)


def test_a_failure_while_applying_leaves_the_served_state_as_it_was(rec, monkeypatch) -> None:
    users = some_users(rec)
    before, summary = answers(rec, users), rec.graph.summary()
    model = rec.model

    def broken(self, graph, delta=None) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(PopularityComponent, "refresh", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        rec.add(batches(rec)[1])
    assert rec.model is model and rec.graph.summary() == summary
    assert not rec.graph.has_node("product:p-new")
    assert answers(rec, users) == before


# ----- repeats merge -----

def test_the_same_event_twice_counts_once(rec) -> None:
    user, item = rec.graph.nodes("user")[3], rec.graph.nodes("product")[5]
    event = Event(raw(user), raw(item), "product", "purchase", ts=NOW + 40)
    edges = rec.graph.num_edges("purchased")
    first = rec.add([event, event])
    assert (first.accepted, first.merged) == (1, 1)
    again = rec.add([event, Event(raw(user), f"product:{raw(item)}", "product", "purchase",
                                  ts=NOW + 40)])
    assert (again.accepted, again.merged, again.rejected) == (0, 2, [])
    assert rec.graph.num_edges("purchased") == edges + 1
    # a different time, or a rating of another value, is another event
    later = rec.add([Event(raw(user), raw(item), "product", "purchase", ts=NOW + 50),
                     Event(raw(user), raw(item), "product", "rate", value=4.0),
                     Event(raw(user), raw(item), "product", "rate", value=2.0),
                     Event(raw(user), raw(item), "product", "rate", value=2.0)])
    assert (later.accepted, later.merged) == (3, 1)
    assert rec.add([Event(raw(user), raw(item), "product", "rate", value=4.0)]).merged == 1


def test_a_whole_batch_sent_again_merges(rec) -> None:
    batch = batches(rec)[1]
    assert rec.add(batch, atomic=True).accepted == len(batch)
    summary = rec.graph.summary()
    again = rec.add(batch, atomic=True)
    assert (again.accepted, again.merged, again.rejected) == (0, len(batch), [])
    assert rec.graph.summary() == summary
    changed = rec.add([Product("p-new", "Another Mug")])
    assert "conflicting duplicate of the existing graph" in changed.rejected[0].reason


def test_events_already_in_the_built_graph_merge(rec) -> None:
    c = next(rec.graph.edge_blocks("viewed"))
    user = rec.graph.node_id("user", int(c.src[0]))
    item = rec.graph.node_id(c.dst_type, int(c.dst[0]))
    ts = None if np.isnan(c.ts[0]) else float(c.ts[0])
    result = rec.add([Event(raw(user), raw(item), c.dst_type, "view", ts=ts)])
    assert (result.accepted, result.merged) == (0, 1)


def test_follows_merge_and_a_different_one_is_a_conflict(rec) -> None:
    a, b = (raw(u) for u in rec.graph.nodes("user")[:2])
    if not rec.graph.has_edge(f"user:{a}", "follows", f"user:{b}"):
        assert rec.add([Follow(a, b, ts=NOW)]).accepted == 1
    held = next(e for e in rec.graph.neighbors(f"user:{a}", "follows")
                if e.dst == f"user:{b}")
    assert rec.add([Follow(a, b, ts=held.ts)]).merged == 1
    other = 1.0e9 if held.ts != 1.0e9 else 1.1e9
    conflict = rec.add([Follow(a, b, ts=other)])
    assert conflict.accepted == 0
    assert "conflicting duplicate of the existing graph" in conflict.rejected[0].reason


# ----- isolation: readers see the old state or the new one -----

def test_readers_on_other_threads_see_one_whole_state(small_demo_artifact) -> None:
    ref = Recommender.load(small_demo_artifact)
    users = some_users(ref)
    states = [answers(ref, users)]
    for batch in batches(ref):
        assert not ref.add(batch).rejected
        states.append(answers(ref, users))
    assert all(states[i] != states[i + 1] for i in range(len(states) - 1))

    rec = Recommender.load(small_demo_artifact)
    errors: list[BaseException] = []
    mixed: list[tuple[str, list]] = []
    seen_states: set[int] = set()
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                for u in users:
                    got = [r.to_json() for r in rec.recommend(u, k=5)]
                    match = [i for i, s in enumerate(states) if s[u] == got]
                    if not match:
                        mixed.append((u, got))
                    seen_states.update(match)
        except BaseException as err:  # any failure counts
            errors.append(err)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: mid-request swaps become likely
    try:
        readers = [threading.Thread(target=read) for _ in range(8)]
        for t in readers:
            t.start()
        for batch in batches(rec):
            rec.add(batch)
        for u in users:  # the writer itself sees its add at once
            assert [r.to_json() for r in rec.recommend(u, k=5)] == states[-1][u]
        done.set()
        for t in readers:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and mixed == []
    assert len(states) - 1 in seen_states


# ----- save: everything the artifact had, and the same answers after loading -----

def test_add_save_load_gives_the_same_recommendations(rec, tmp_path) -> None:
    for batch in batches(rec):
        rec.add(batch)
    rejected = rec.add([Event("nobody", "p-new", "product", "view")])
    users = some_users(rec)
    before = answers(rec, users)
    rec.save(tmp_path / "saved")
    again = Recommender.load(tmp_path / "saved", verify=True)
    assert answers(again, users) == before
    assert again.graph == rec.graph
    quarantine = (tmp_path / "saved" / "rejected.jsonl").read_text().splitlines()
    assert json.loads(quarantine[-1])["reason"] == rejected.rejected[0].reason
    assert again.manifest["quarantined"] == rec.manifest["quarantined"]
