"""The log survives restarts, torn appends and snapshots; replay restores every write."""

from __future__ import annotations

import json
import time

import pytest

from recommend.serve.state import ServedState
from recommend.serve.wal import LogDamagedError, WriteAheadLog
from tests.serve.conftest import HEADERS


def test_wal_appends_fsyncs_and_cuts_a_torn_tail(tmp_path) -> None:
    log = WriteAheadLog(tmp_path / "log.jsonl")
    assert log.append({"a": 1}) == 1 and log.append({"a": 2}) == 2
    log.close()
    with open(tmp_path / "log.jsonl", "ab") as handle:
        handle.write(b'{"seq":3,"a"')  # killed mid-append: never acknowledged
    again = WriteAheadLog(tmp_path / "log.jsonl")
    assert [e["a"] for e in again.entries()] == [1, 2]
    assert again.append({"a": 3}) == 3
    again.close()
    lines = (tmp_path / "log.jsonl").read_bytes().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3]


def test_wal_refuses_a_damaged_middle_line(tmp_path) -> None:
    (tmp_path / "log.jsonl").write_bytes(b'{"seq":1}\nxx\n{"seq":2}\n')
    with pytest.raises(LogDamagedError, match="line 2"):
        WriteAheadLog(tmp_path / "log.jsonl")


def test_a_failed_append_leaves_the_log_as_it_was(tmp_path) -> None:
    """A disk that fills mid-line (here a file size limit: EFBIG after part of the line):
    the append raises, and the log holds only acknowledged entries, each once."""
    import resource
    import signal

    log = WriteAheadLog(tmp_path / "log.jsonl")
    assert log.append({"a": "x" * 50}) == 1
    size = (tmp_path / "log.jsonl").stat().st_size
    before = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, before[1]))
        with pytest.raises(OSError):
            log.append({"a": "y" * 5000})  # ~100 bytes of it fit
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, before)
        signal.signal(signal.SIGXFSZ, handler)
    assert (tmp_path / "log.jsonl").stat().st_size == size
    assert log.append({"a": "z"}) == 2  # space again: the next write takes the next seq
    log.close()
    assert [(e["seq"], e["a"][0]) for e in WriteAheadLog(tmp_path / "log.jsonl").entries()] == [
        (1, "x"), (2, "z")]


def test_a_state_folder_that_cannot_be_written_is_refused_saying_so(
        small_demo_artifact, tmp_path, monkeypatch) -> None:
    import errno

    from recommend.serve import served

    def read_only(path, flags, mode=0o777):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(served.os, "open", read_only)
    with pytest.raises(OSError, match=r"state folder cannot be written \(Read-only file "
                       r"system\); .* give a writable --state folder"):
        ServedState(small_demo_artifact, tmp_path / "state")


def test_restart_replays_every_acknowledged_write(start, tmp_path) -> None:
    state_dir = tmp_path / "state"
    client = start(state_dir)
    first = client.get("/v1/users/u0001/recommendations", params={"k": 3}).json()[0]["item"]
    client.post("/v1/users", json={"id": "fresh"}, headers=HEADERS)
    client.post("/v1/events", headers=HEADERS, json=[
        {"user": "fresh", "target": "p0002", "kind": "purchase"},
        {"user": "u0001", "target": first, "kind": "not-interested"}])
    client.app.state.served.detach()  # as kill -9 leaves it: no shutdown snapshot
    state = ServedState(_artifact(client), state_dir)
    assert state.replayed == 2 and state.snapshot_seq == 0
    assert state.rec.graph.has_edge("user:fresh", "purchased", "product:p0002")
    assert "product:" + first.partition(":")[2] in state.refusals.of("user:u0001")
    state.detach()


def _artifact(client):
    return client.app.state.served.artifact


def test_snapshot_then_restart_loads_it_and_keeps_refusals(start, tmp_path) -> None:
    state_dir = tmp_path / "state"
    client = start(state_dir)
    client.post("/v1/events", headers=HEADERS, json=[
        {"user": "u0001", "target": "p0002", "kind": "purchase"},
        {"user": "u0001", "target": "p0003", "kind": "not-interested"}])
    client.post("/v1/events", headers=HEADERS,
                json={"user": "u0002", "target": "p0004", "kind": "cart"})
    served = client.app.state.served
    assert served.snapshot() is True and served.snapshot() is False
    assert not (state_dir / "snapshot" / "rdf_store").exists()  # no SPARQL is served
    compacted = [json.loads(x) for x in (state_dir / "log.jsonl").read_bytes().splitlines()]
    assert [e["seq"] for e in compacted] == [1]  # only the entry holding a refusal stays
    client.post("/v1/events", headers=HEADERS,
                json={"user": "u0003", "target": "p0005", "kind": "like"})
    served.detach()
    again = ServedState(served.artifact, state_dir)
    assert again.snapshot_seq == 2 and again.replayed == 1
    graph = again.rec.graph
    for edge in (("user:u0001", "purchased", "product:p0002"),
                 ("user:u0002", "carted", "product:p0004"),
                 ("user:u0003", "liked", "product:p0005")):
        assert graph.has_edge(*edge), edge
    assert again.refusals.of("user:u0001") == {"product:p0003"}
    again.detach()


def test_a_state_folder_belongs_to_one_artifact(start, tmp_path) -> None:
    state_dir = tmp_path / "state"
    client = start(state_dir)
    client.post("/v1/events", headers=HEADERS,
                json={"user": "u0001", "target": "p0002", "kind": "view"})
    with pytest.raises(RuntimeError, match="another server"):
        ServedState(client.app.state.served.artifact, state_dir)
    client.app.state.served.snapshot()
    client.app.state.served.detach()
    with pytest.raises(ValueError, match="served from"):
        ServedState(tmp_path / "nowhere", state_dir)


def test_seqs_stay_above_the_snapshot_after_a_restart(start, tmp_path) -> None:
    state_dir = tmp_path / "state"
    client = start(state_dir)
    for user in ("u0001", "u0002"):
        client.post("/v1/events", headers=HEADERS,
                    json={"user": user, "target": "p0002", "kind": "cart"})
    served = client.app.state.served
    served.snapshot()  # the log is compacted empty; the snapshot holds seq 2
    served.detach()
    second = ServedState(served.artifact, state_dir)
    result = second.write("events", {"user": "u0003", "target": "p0004", "kind": "purchase"})
    assert result.seq == 3
    second.detach()  # as after kill -9: no shutdown snapshot
    third = ServedState(served.artifact, state_dir)
    assert third.replayed == 1
    assert third.rec.graph.has_edge("user:u0003", "purchased", "product:p0004")
    third.detach()


def test_concurrent_writes_are_committed_together_and_each_answered(start, tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    client = start(tmp_path / "state")
    served = client.app.state.served
    adds = []
    real_add = served.rec.add

    def counting_add(*args, **kwargs):
        adds.append(1)
        return real_add(*args, **kwargs)

    served.rec.add = counting_add
    bodies = [{"user": f"u{1 + i % 5:04d}", "target": f"p{10 + i:04d}", "kind": "view",
               "ts": 1_700_000_000 + i} for i in range(16)]
    bad = {"user": "u0001", "target": "p0002", "kind": "teleport"}
    with ThreadPoolExecutor(17) as pool:
        with served.lock:  # a write being applied: the others queue behind it
            futures = [pool.submit(served.write, "events", b) for b in [*bodies, bad]]
            deadline = time.monotonic() + 30
            while len(served._queue) < 17 and time.monotonic() < deadline:
                time.sleep(0.01)
        answers = [f.result() for f in futures[:16]]
        with pytest.raises(Exception, match="teleport"):
            futures[16].result()
    assert [a.accepted for a in answers] == [1] * 16
    assert len({a.seq for a in answers}) == 16  # each logged alone
    for body in bodies:
        assert served.rec.graph.has_edge(f"user:{body['user']}", "viewed",
                                         f"product:{body['target']}")
    assert len(adds) == 1  # the queued requests were added in one call
    served.detach()


def test_a_writer_with_a_deferred_model_validates_against_its_grown_graph(
        small_demo_artifact, tmp_path) -> None:
    """defer_model (the --workers N writer): the model is untouched until a snapshot, writes
    are validated against the graph grown by the earlier ones (a repeat merges), and the
    snapshot holds what the writer applying every write at once would hold."""
    from recommend import Recommender

    events = [{"user": f"u{1 + i % 5:04d}", "target": f"p{10 + i:04d}", "kind": "purchase",
               "ts": 1_700_000_000 + i} for i in range(6)]
    new_user = {"id": "fresh-one"}
    deferred = ServedState(small_demo_artifact, tmp_path / "deferred", defer_model=True)
    model = deferred.rec.model
    answers = [deferred.write("events", e) for e in events[:3]]
    answers.append(deferred.write("users", new_user))
    answers.append(deferred.write("events", [*events[3:], {**events[0]}]))
    assert [a.accepted for a in answers] == [1, 1, 1, 1, 3] and answers[-1].merged == 1
    assert deferred.rec.model is model  # nothing applied to the model yet
    assert deferred.graph.has_edge("user:u0002", "purchased", "product:p0011")
    assert not deferred.rec.graph.has_edge("user:u0002", "purchased", "product:p0011")
    with pytest.raises(Exception, match="unknown user"):  # the grown graph's ids resolve,
        deferred.write("events", {"user": "nobody", "target": "p0002", "kind": "view"})
    assert deferred.write("events", {"user": "fresh-one", "target": "p0002",  # the others
                                     "kind": "view", "ts": 1_700_000_100}).accepted == 1
    assert deferred.snapshot()
    assert deferred.rec.graph == deferred.graph

    at_once = ServedState(small_demo_artifact, tmp_path / "at-once")
    for route, body in [*(("events", e) for e in events[:3]), ("users", new_user),
                        ("events", [*events[3:], {**events[0]}]),
                        ("events", {"user": "fresh-one", "target": "p0002", "kind": "view",
                                    "ts": 1_700_000_100})]:
        at_once.write(route, body)
    assert at_once.rec.graph == deferred.rec.graph
    users = ["user:u0001", "user:u0002", "user:fresh-one"]
    want = {u: [r.to_json() for r in at_once.rec.recommend(u, k=5)] for u in users}
    assert {u: [r.to_json() for r in deferred.rec.recommend(u, k=5)] for u in users} == want
    deferred.close()
    at_once.detach()
    loaded = Recommender.load(tmp_path / "deferred" / "snapshot")
    assert {u: [r.to_json() for r in loaded.recommend(u, k=5)] for u in users} == want


def test_a_write_does_not_wait_for_a_snapshot_being_saved(small_demo_artifact, tmp_path,
                                                          monkeypatch) -> None:
    import threading

    state = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True)
    saving, release, written = threading.Event(), threading.Event(), threading.Event()
    real_save = state.rec.save

    def slow_save(*args, **kwargs):  # a large world's save, held until the write is done
        saving.set()
        release.wait(60)
        return real_save(*args, **kwargs)

    monkeypatch.setattr(state.rec, "save", slow_save)
    event = {"user": "u0003", "target": "p0002", "kind": "view"}
    assert state.write("events", event).seq == 1
    snapshot = threading.Thread(target=state.snapshot)
    snapshot.start()
    try:
        assert saving.wait(30)
        threading.Thread(target=lambda: (state.write("events", {**event, "kind": "click"}),
                                         written.set()), daemon=True).start()
        assert written.wait(10), "the write waited for the snapshot's save"
    finally:
        release.set()
        snapshot.join()
    assert state.snapshot_seq == 1 and state.applied_seq == 2
    state.detach()
    again = ServedState(small_demo_artifact, tmp_path / "state")  # the snapshot and the log
    assert again.snapshot_seq == 1 and again.applied_seq == 2
    again.detach()


def test_a_deferred_writer_checks_a_product_write_once_with_the_same_answers(
        small_demo_artifact, tmp_path, monkeypatch) -> None:
    """A product request is checked (and the graph grown by it) once, ahead of the write
    lock; again only when another write changed the graph meanwhile. The answers are those
    of checking it in the lock: accepted, merged, refused."""
    from recommend.serve import state as state_module
    from recommend.serve.writes import WriteRefused

    checks: list[str] = []
    check = state_module.check_request
    monkeypatch.setattr(state_module, "check_request",
                        lambda graph, route, body: checks.append(route) or
                        check(graph, route, body))
    writer = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True)
    product = {"id": "mug-once", "title": "Stoneware mug", "brand": "Hearth"}
    first = writer.write("products", product)
    assert (first.accepted, first.merged) == (1, 0) and checks == ["products"]
    again = writer.write("products", product)  # a repeat merges, adds nothing: checked in
    assert (again.accepted, again.merged) == (0, 1) and len(checks) == 3  # the lock again
    with pytest.raises(WriteRefused, match="id"):
        writer.write("products", {"title": "no id"})
    assert len(checks) == 5  # a refusal ahead is checked again in the lock, which says why
    ahead = writer._embed_ahead  # another write lands between the check ahead and the lock

    def then_a_user(ticket) -> None:
        ahead(ticket)
        writer._commit_to_graph(state_module.Ticket("users", {"id": "between"}))

    monkeypatch.setattr(writer, "_embed_ahead", then_a_user)
    checks.clear()
    assert writer.write("products", {**product, "id": "mug-late"}).accepted == 1
    assert checks == ["products", "users", "products"]  # the graph changed: checked again
    assert writer.graph.has_node("product:mug-late") and writer.graph.has_node("user:between")
    writer.detach()
