"""A reader follows the writer's log: whole lines, across compactions, and gaps noticed;
its model gets every write (ratings with their stars) within a poll."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from recommend.serve.follow import LogFollower, LogGap
from recommend.serve.reader import ReaderState
from recommend.serve.served import WriterUnavailable
from recommend.serve.state import ServedState
from recommend.serve.wal import WriteAheadLog
from tests.serve.conftest import HEADERS


@pytest.fixture
def pair(tmp_path) -> Iterator[tuple[WriteAheadLog, LogFollower]]:
    """A log and a follower of it, closed after the test."""
    log = WriteAheadLog(tmp_path / "log.jsonl")
    follower = LogFollower(tmp_path / "log.jsonl")
    yield log, follower
    follower.close()
    log.close()


def test_follower_takes_whole_lines_in_order(pair) -> None:
    log, follower = pair
    path = log.path
    assert follower.poll() == []
    log.append({"a": 1})
    log.append({"a": 2})
    assert [e["a"] for e in follower.poll()] == [1, 2]
    with open(path, "ab") as handle:  # an append caught half-way
        handle.write(b'{"seq":3,"a"')
    assert follower.poll() == []
    with open(path, "ab") as handle:
        handle.write(b':3}\n')
    assert [e["seq"] for e in follower.poll()] == [3]
    assert follower.poll() == []


def test_follower_goes_on_across_a_compaction(pair) -> None:
    log, follower = pair
    for a in range(3):
        log.append({"a": a})
    assert len(follower.poll()) == 3
    log.append({"a": 3})  # seq 4: not seen before the compaction
    log.compact(lambda e: e["seq"] > 2)  # a snapshot at seq 2
    log.append({"a": 4})
    assert [e["seq"] for e in follower.poll()] == [4, 5]  # the old file first, no repeats
    log.append({"a": 5})
    assert [e["seq"] for e in follower.poll()] == [6]


def test_follower_notices_entries_it_never_saw(pair) -> None:
    log, follower = pair
    log.append({"a": 0})
    assert len(follower.poll()) == 1
    log.compact(lambda e: False)
    log.append({"a": 1})
    log.compact(lambda e: False)  # two compactions between two looks: seq 2 is gone
    log.append({"a": 2})
    with pytest.raises(LogGap, match="seq 3 follows 1"):
        follower.poll()
    again = LogFollower(log.path, after=2)  # what a reader starting again does
    everything, pending = again.read_all()
    assert [e["seq"] for e in everything] == [3] and [e["seq"] for e in pending] == [3]
    again.close()


def _wait(reader: ReaderState, seq: int) -> float:
    start = time.perf_counter()
    assert reader.wait_for(seq, timeout=5.0)
    return time.perf_counter() - start


def test_a_reader_applies_every_write_of_the_writer(small_demo_artifact, tmp_path) -> None:
    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir)
    writer.write("events", {"user": "u0001", "target": "p0002", "kind": "cart"})
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no.sock")
    try:
        assert reader.applied_seq == 1  # caught up on start
        assert reader.rec.graph.has_edge("user:u0001", "carted", "product:p0002")
        writer.write("users", {"id": "newcomer"})
        seq = writer.write("events", [
            {"user": "newcomer", "target": "p0003", "kind": "rate", "value": 2, "ts": 1.7e9},
            {"user": "u0002", "target": "p0004", "kind": "not-interested"}]).seq
        assert _wait(reader, seq) < 1.0
        rated = reader.rec.graph.neighbors("user:newcomer", "rated")
        assert [(e.dst, e.weight) for e in rated] == [("product:p0003", 3.0)]  # 1 + 2 stars
        assert reader.refusals.of("user:u0002") == {"product:p0004"}
        assert reader.applied == {"rate": 1, "not-interested": 1}
        with pytest.raises(WriterUnavailable, match="did not answer"):
            reader.write("events", {"user": "u0001", "target": "p0002", "kind": "view"})
    finally:
        reader.close()
        writer.detach()


def test_a_reader_behind_two_compactions_starts_from_the_snapshot(small_demo_artifact,
                                                                   tmp_path) -> None:
    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir)
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no.sock")
    try:
        reader._stop.set()  # the reader looks away while the writer snapshots twice
        reader._thread.join()
        for n, target in enumerate(("p0002", "p0003", "p0004")):
            writer.write("events", {"user": "u0005", "target": target, "kind": "purchase"})
            if n < 2:
                writer.snapshot()
        reader._catch_up()  # LogGap: loads the newer snapshot, then the log after it
        assert reader.snapshot_seq == 2 and reader.applied_seq == 3
        for target in ("p0002", "p0003", "p0004"):
            assert reader.rec.graph.has_edge("user:u0005", "purchased", f"product:{target}")
    finally:
        reader.close()
        writer.detach()


def test_ratings_through_the_api_keep_their_stars_across_a_restart(start, tmp_path) -> None:
    state_dir = tmp_path / "state"
    client = start(state_dir)
    got = client.post("/v1/events", headers=HEADERS, json=[
        {"user": "u0007", "target": "p0009", "kind": "rate", "value": 5},
        {"user": "u0008", "target": "p0009", "kind": "rate", "value": 1.5}])
    assert got.status_code == 200 and got.json()["accepted"] == 2
    bad = client.post("/v1/events", headers=HEADERS,
                      json={"user": "u0007", "target": "p0010", "kind": "rate", "value": "x"})
    assert bad.status_code == 422 and "value" in bad.text
    served = client.app.state.served
    served.detach()  # as kill -9 leaves it
    again = ServedState(served.artifact, state_dir)
    graph = again.rec.graph
    stars = {user: [e.weight for e in graph.neighbors(user, "rated")
                    if e.dst == "product:p0009"] for user in ("user:u0007", "user:u0008")}
    assert stars == {"user:u0007": [6.0], "user:u0008": [2.5]}  # 1 + the stars
    again.detach()



def test_a_reader_loading_a_snapshot_the_log_has_passed_loads_again(small_demo_artifact,
                                                                    tmp_path, monkeypatch
                                                                    ) -> None:
    import recommend.serve.reader as reader_module
    from recommend.recommender import Recommender

    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir)
    writer.write("events", {"user": "u0006", "target": "p0002", "kind": "cart"})
    writer.snapshot()  # the log is compacted past seq 1
    writer.write("events", {"user": "u0006", "target": "p0003", "kind": "cart"})
    real, calls = reader_module.load_served, []

    def stale_first(artifact, folder):
        calls.append(1)  # the first load sees the artifact, as if the snapshot came later
        return (Recommender.load(small_demo_artifact), 0) if len(calls) == 1 else \
            real(artifact, folder)

    monkeypatch.setattr(reader_module, "load_served", stale_first)
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no.sock")
    try:
        assert len(calls) == 2 and reader.snapshot_seq == 1 and reader.applied_seq == 2
        for target in ("p0002", "p0003"):
            assert reader.rec.graph.has_edge("user:u0006", "carted", f"product:{target}")
    finally:
        reader.close()
        writer.detach()
